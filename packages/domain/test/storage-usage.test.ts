import { createHash } from 'node:crypto';
import { createRepository, saveManifests, writeRepositoryVersion, type Database, type ManifestRecord } from '@cistern/db';
import { isCisternError } from '@cistern/errors';
import type { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repositoryService } from '../src/repositories/repository-service.ts';
import { versionService } from '../src/repositories/version-service.ts';
import { storageService } from '../src/storage/storage-service.ts';
import { testDatabase } from './database.ts';

let db: Database;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ db, cleanup } = await testDatabase());
});
afterAll(() => cleanup());

const digestOf = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;

/** An image manifest named `name` over blobs given as [name, size]: the first is its config, the rest layers. */
function image(name: string, blobs: [string, number][]): ManifestRecord {
  const raw = Buffer.from(JSON.stringify({ schemaVersion: 2, name }));
  return {
    digest: digestOf(raw.toString()),
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    artifactType: null,
    classification: 'image',
    raw,
    subjectDigest: null,
    configDigest: digestOf(blobs[0]?.[0] ?? ''),
    blobs: blobs.map(([blob, size], i) => ({ digest: digestOf(blob), size, mediaType: 'application/octet-stream', role: i === 0 ? 'config' : 'layer' })),
    children: [],
  };
}

const repositories = () => repositoryService({ prisma: db.prisma, scheduleQueue: {} as Queue });
const usageOf = async (id: string) => (await repositories().show(id)).usage;
const noTemporaryFiles = { temporaryUsage: async () => ({ files: 0, bytes: 0 }) };

describe('storage usage', () => {
  it('sums distinct stored blobs per repository, what only it holds, and the orphans left once its versions go', async () => {
    // a1 and a2 share the layer "base" with b; "lazy" is an on-demand layer, not stored.
    const a1 = image('a1', [
      ['config a1', 10],
      ['base', 100],
      ['lazy', 1000],
    ]);
    const a2 = image('a2', [
      ['config a2', 30],
      ['base', 100],
    ]);
    const b = image('b', [
      ['config b', 20],
      ['base', 100],
    ]);
    const never = image('never in a repository', [['config never', 7]]);
    await saveManifests(db.prisma, [a1, a2, b, never]);
    const stored = ['config a1', 'config a2', 'config b', 'base', 'config never'].map(digestOf);
    await db.prisma.blob.updateMany({ where: { digest: { in: stored } }, data: { stored: true } });
    // A blob no manifest references at all (a layer whose manifest never came).
    await db.prisma.blob.create({ data: { digest: digestOf('alone'), size: 5, stored: true } });
    const remote = await db.prisma.remote.create({ data: { name: 'upstream', url: 'https://registry.example.test', upstreamName: 'app' } });
    await db.prisma.remoteArtifact.create({ data: { blobDigest: digestOf('lazy'), remoteId: remote.id, upstreamName: 'app' } });

    const repoA = await createRepository(db.prisma, { name: 'a' });
    const repoB = await createRepository(db.prisma, { name: 'b' });
    await writeRepositoryVersion(db.prisma, repoA.id, { addManifests: [a1.digest, a2.digest], addTags: [['latest', a2.digest]] });
    await writeRepositoryVersion(db.prisma, repoB.id, { addManifests: [b.digest], addTags: [['latest', b.digest]] });

    // "base" counts once in a though two of its manifests reference it; "lazy" is not stored; b holds "base" too.
    expect(await usageOf(repoA.id)).toEqual({ storedBytes: 140, exclusiveBytes: 40 });
    expect(await usageOf(repoB.id)).toEqual({ storedBytes: 120, exclusiveBytes: 20 });
    const storage = storageService({ prisma: db.prisma, storage: noTemporaryFiles });
    expect(await storage.summary()).toEqual({
      blobs: { count: 7, storedCount: 6, storedBytes: 172 },
      manifests: { count: 4 },
      remoteArtifacts: { count: 1 },
      orphans: { manifests: 1, blobs: 2, blobBytes: 12 },
      temporary: { files: 0, bytes: 0 },
    });

    // Removed from b's latest version, its manifest stays in b's version 1: nothing is freed yet.
    await writeRepositoryVersion(db.prisma, repoB.id, { removeManifests: [b.digest] });
    expect(await usageOf(repoB.id)).toEqual({ storedBytes: 120, exclusiveBytes: 20 });
    expect(await usageOf(repoA.id)).toEqual({ storedBytes: 140, exclusiveBytes: 40 });
    expect((await storage.summary()).orphans).toEqual({ manifests: 1, blobs: 2, blobBytes: 12 });

    // Version 1 deleted, its membership rows are pruned: b holds nothing, a alone holds "base", b's manifest and config are orphans.
    await versionService({ prisma: db.prisma }).delete(repoB.id, 1);
    expect(await usageOf(repoB.id)).toEqual({ storedBytes: 0, exclusiveBytes: 0 });
    expect(await usageOf(repoA.id)).toEqual({ storedBytes: 140, exclusiveBytes: 140 });
    expect((await storage.summary()).orphans).toEqual({ manifests: 2, blobs: 3, blobBytes: 32 });
  });

  it('reports the temporary area the blob store counts', async () => {
    const storage = storageService({ prisma: db.prisma, storage: { temporaryUsage: async () => ({ files: 2, bytes: 4096 }) } });
    expect((await storage.summary()).temporary).toEqual({ files: 2, bytes: 4096 });
  });

  it('answers NOT_FOUND for an unknown repository', async () => {
    const refused = await repositories()
      .show('00000000-0000-4000-8000-000000000000')
      .catch((error: unknown) => error);
    expect(isCisternError(refused, 'NOT_FOUND')).toBe(true);
  });
});
