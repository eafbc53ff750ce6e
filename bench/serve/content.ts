import { randomBytes, randomUUID } from 'node:crypto';
import { createRepository, type PrismaClient } from '@cistern/db';
import { DEFAULT_POLICY } from '@cistern/oci';
import type { BlobStore } from '@cistern/storage';
import { syncRepository, type SyncProgress } from '@cistern/sync';
import { clientForRemote } from '@cistern/upstream';
import { json, pushBlob, pushManifest, type Distribution } from '@cistern/testkit';

export const REPO = 'bench/app';
export const TAG = 'latest';
export const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';

export interface BenchContent {
  blobs: Record<'64KiB' | '2MiB' | '100MiB', string>;
}

const SIZES = { '64KiB': 64 * 1024, '2MiB': 2 * 1024 * 1024, '100MiB': 100 * 1024 * 1024 } as const;

/** One image whose layers are the blobs to measure, pushed to Distribution. */
export async function pushBenchContent(upstream: Distribution): Promise<BenchContent> {
  const blobs = {} as BenchContent['blobs'];
  for (const [name, size] of Object.entries(SIZES) as [keyof typeof SIZES, number][]) blobs[name] = await pushBlob(upstream, REPO, randomBytes(size));
  const config = json({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: {} });
  const configDigest = await pushBlob(upstream, REPO, config);
  const manifest = json({
    schemaVersion: 2,
    mediaType: MANIFEST_TYPE,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
    layers: Object.entries(SIZES).map(([name, size]) => ({
      mediaType: 'application/vnd.oci.image.layer.v1.tar',
      digest: blobs[name as keyof typeof SIZES],
      size,
    })),
  });
  await pushManifest(upstream, REPO, TAG, manifest, MANIFEST_TYPE);
  return { blobs };
}

const quiet: SyncProgress = { report: () => undefined, increment: () => undefined, checkpoint: () => undefined, signal: new AbortController().signal };

/** Mirrors the upstream repository into Cistern (immediate: every blob local) and publishes it at the same path. */
export async function mirrorIntoCistern(prisma: PrismaClient, storage: BlobStore, secretKey: Buffer, upstream: Distribution): Promise<void> {
  const remote = await prisma.remote.create({ data: { name: `bench-${randomUUID()}`, url: upstream.url, upstreamName: REPO } });
  const repository = await createRepository(prisma, { name: `bench-${randomUUID()}` });
  await syncRepository(
    { prisma, storage, client: clientForRemote({ ...remote, upstreamName: REPO }, secretKey), progress: quiet },
    { repositoryId: repository.id, remote, mirror: true, mediaTypePolicy: DEFAULT_POLICY, maxManifestBytes: 4 * 1024 * 1024 },
  );
  await prisma.distribution.create({ data: { name: 'bench', basePath: REPO, repositoryId: repository.id } });
}
