import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { saveManifest, writeRepositoryVersion } from '@cistern/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiHarness } from './harness.ts';

const h = new ApiHarness();
beforeAll(() => h.start());
afterAll(() => h.stop());

const digestOf = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;

/** Saves an image manifest over its own config (of `configSize` bytes) and the layer every such image shares; answers its digest. */
async function image(name: string, configSize: number): Promise<string> {
  const raw = Buffer.from(JSON.stringify({ schemaVersion: 2, name }));
  const digest = digestOf(raw.toString());
  const config = { digest: digestOf(`config ${name}`), size: configSize, mediaType: 'application/vnd.oci.image.config.v1+json', role: 'config' as const };
  const layer = { digest: digestOf('shared layer'), size: 100, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', role: 'layer' as const };
  const record = { digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: null, classification: 'image', raw, children: [] };
  await saveManifest(h.prisma, { ...record, subjectDigest: null, configDigest: config.digest, blobs: [config, layer] });
  return digest;
}

describe('storage usage', () => {
  it("shows a repository's stored and exclusive bytes in its own view, not in the list, and 404s an unknown one", async () => {
    const one = (await h.post('/api/v1/repositories', { name: 'usage-one' })).body;
    const two = (await h.post('/api/v1/repositories', { name: 'usage-two' })).body;
    await writeRepositoryVersion(h.prisma, one.id, { addManifests: [await image('one', 10)] });
    await writeRepositoryVersion(h.prisma, two.id, { addManifests: [await image('two', 20)] });
    // Two's config was never fetched (on demand): only the shared layer and one's config are bytes on disk.
    await h.prisma.blob.updateMany({ where: { digest: { in: [digestOf('config one'), digestOf('shared layer')] } }, data: { stored: true } });

    expect((await h.get(`/api/v1/repositories/${one.id}`)).body.usage).toEqual({ storedBytes: 110, exclusiveBytes: 10 });
    expect((await h.get(`/api/v1/repositories/${two.id}`)).body.usage).toEqual({ storedBytes: 100, exclusiveBytes: 0 });
    const listed = (await h.get('/api/v1/repositories?name__contains=usage')).body.results;
    expect(listed).toHaveLength(2);
    for (const row of listed) expect(row).not.toHaveProperty('usage');
    const unknown = await h.get('/api/v1/repositories/00000000-0000-4000-8000-000000000000');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('NOT_FOUND');
  });

  it('summarizes the store for admin tokens only, counting a file left in the temporary area', async () => {
    expect((await h.get('/api/v1/storage', null)).status).toBe(401);
    const pull = (await h.post('/api/v1/tokens', { name: 'storage-puller', scope: 'pull', allDistributions: true })).body;
    const forbidden = await h.get('/api/v1/storage', pull.secret);
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error.code).toBe('FORBIDDEN');

    await writeFile(path.join(h.resources.config.storageDir, 'tmp', 'abandoned-upload'), Buffer.alloc(1234));
    const summary = await h.get('/api/v1/storage');
    expect(summary.status).toBe(200);
    expect(summary.body).toMatchObject({
      blobs: { count: expect.any(Number), storedCount: expect.any(Number), storedBytes: expect.any(Number) },
      manifests: { count: expect.any(Number) },
      remoteArtifacts: { count: 0 },
      orphans: { manifests: expect.any(Number), blobs: expect.any(Number), blobBytes: expect.any(Number) },
      temporary: { files: 1, bytes: 1234 },
    });
  });
});
