import type { PrismaClient, SyncPolicy } from '@cistern/db';
import type { Descriptor, ParsedManifest } from '@cistern/oci';
import type { BlobStore } from '@cistern/storage';
import type { UpstreamClient } from '@cistern/upstream';
import pLimit from 'p-limit';
import { isBlobEntry, isForeign } from './manifest-record.ts';
import { Report, type SyncProgress } from './sync-progress.ts';

export interface BlobTransferOptions {
  prisma: PrismaClient;
  storage: BlobStore;
  client: UpstreamClient;
  progress: SyncProgress;
  policy: SyncPolicy;
  remoteId: string;
  upstreamName: string;
  concurrency: number;
}

interface BlobNeed {
  digest: string;
  size: number;
  role: 'config' | 'layer';
  urls: string[];
  foreign: boolean;
}

/** Every blob the manifests reference, once each. Schema-1 sizes come from the Blob rows. */
function blobNeeds(manifests: Iterable<ParsedManifest>): Map<string, BlobNeed> {
  const needs = new Map<string, BlobNeed>();
  const add = (d: Pick<Descriptor, 'digest' | 'size' | 'mediaType' | 'urls'>, role: BlobNeed['role']) => {
    if (!needs.has(d.digest)) needs.set(d.digest, { digest: d.digest, size: d.size, role, urls: d.urls ?? [], foreign: isForeign(d) });
  };
  for (const parsed of manifests) {
    if (parsed.config) add(parsed.config, 'config');
    for (const layer of parsed.layers) add(layer, 'layer');
    for (const child of parsed.children) if (isBlobEntry(child)) add(child, 'layer');
    for (const digest of parsed.schema1Blobs) add({ digest, size: -1, mediaType: 'schema1' }, 'layer');
  }
  return needs;
}

/**
 * `immediate`: every distributable blob not yet stored is downloaded and verified.
 * `on_demand` / `streamed`: config blobs are downloaded (clients always need them
 * and they are small); layers are recorded as remote artifacts for the registry
 * to fetch on first pull. Foreign layers are recorded, never downloaded.
 */
export async function transferBlobs(options: BlobTransferOptions, manifests: Iterable<ParsedManifest>): Promise<void> {
  const { prisma, storage, progress } = options;
  const needs = blobNeeds(manifests);
  const rows = await prisma.blob.findMany({ where: { digest: { in: [...needs.keys()] } }, select: { digest: true, size: true, stored: true } });
  const stored = new Set(rows.filter((b) => b.stored).map((b) => b.digest));
  const sizes = new Map(rows.map((b) => [b.digest, Number(b.size)]));
  const toDownload: BlobNeed[] = [];
  const toRecord: BlobNeed[] = [];
  for (const need of needs.values()) {
    if (need.size < 0) need.size = sizes.get(need.digest) ?? 0;
    if (stored.has(need.digest)) continue;
    if (!need.foreign && (options.policy === 'immediate' || need.role === 'config')) toDownload.push(need);
    else toRecord.push(need);
  }
  await recordRemoteArtifacts(options, toRecord);
  progress.report(Report.blobs, { message: 'blobs downloaded', done: 0, total: toDownload.length });
  // One failure stops the other downloads, and all of them settle before the sync
  // reports it, so no write is still in flight when the task says it failed.
  const stop = new AbortController();
  const signal = AbortSignal.any([progress.signal, stop.signal]);
  const limit = pLimit(options.concurrency);
  let firstFailure: { error: unknown } | undefined;
  await Promise.allSettled(
    toDownload.map((need) =>
      limit(async () => {
        if (signal.aborted) return;
        progress.checkpoint();
        if (!(await storage.exists(need.digest))) await download(options, need, signal);
        await prisma.blob.update({ where: { digest: need.digest }, data: { stored: true } });
        progress.increment(Report.blobs);
      }).catch((error: unknown) => {
        firstFailure ??= { error };
        stop.abort();
      }),
    ),
  );
  if (firstFailure) throw firstFailure.error;
  progress.report(Report.blobs, { state: 'completed' });
}

async function download(options: BlobTransferOptions, need: BlobNeed, signal: AbortSignal): Promise<void> {
  const sink = options.storage.createWriteStream(need.digest, need.size);
  try {
    await options.client.getBlob(need.digest, sink.stream, { size: need.size, signal });
    await sink.done;
  } catch (error) {
    // The store removes what it was given; nothing unverified becomes visible.
    sink.stream.destroy(error as Error);
    await sink.done.catch(() => undefined);
    throw error;
  }
  options.progress.increment(Report.bytes, need.size, 'bytes downloaded');
}

async function recordRemoteArtifacts(options: BlobTransferOptions, needs: BlobNeed[]): Promise<void> {
  if (needs.length === 0) return;
  await options.prisma.remoteArtifact.createMany({
    data: needs.map((need) => ({ blobDigest: need.digest, remoteId: options.remoteId, upstreamName: options.upstreamName, urls: need.urls })),
    skipDuplicates: true,
  });
}
