import { Prisma, type PrismaClient } from '@cistern/db';
import type { BlobStore } from '@cistern/storage';
import { protectionCutoff } from './collectable.ts';
import { forEachDigestBatch } from './digest-batches.ts';
import { reclaimableBlob, type ReclaimScope } from './reclaimable.ts';
import { releaseBlobs } from './release-blobs.ts';

export interface ReclaimOptions {
  /** The repositories whose old versions give up their blobs' files. */
  repositoryIds: string[];
  /** Each listed repository keeps its newest this many versions (≥ 1), besides those a distribution pins. */
  keepVersions: number;
  /** Stops between batches. */
  signal?: AbortSignal;
  /** Told after each batch, with the figures so far. */
  onProgress?: (figures: ReclaimFigures) => void;
}

/** What a reclaim dropped: blob files (their rows stay, not stored) and their bytes. */
export interface ReclaimFigures {
  blobs: number;
  bytesFreed: number;
}

/**
 * Reclaim space (Pulp's term): drops the files of blobs that only old
 * versions of the listed repositories need, keeping their rows (not stored)
 * and remote artifacts, so that a pull fetches them from the remote again
 * (registry-core's OnDemandBlobReader). What may go is `reclaimableBlob`.
 * Safe beside syncs, fetches and cleanups as orphan cleanup is: nothing
 * touched since the oldest live content hold began (protection 0) is
 * dropped, and each batch is locked and checked again before it changes.
 * Rejects when the database or the store does; what it dropped so far stays dropped.
 */
export async function reclaimSpace(prisma: PrismaClient, storage: BlobStore, options: ReclaimOptions): Promise<ReclaimFigures> {
  const scope: ReclaimScope = {
    repositoryIds: [...new Set(options.repositoryIds)],
    keepVersions: options.keepVersions,
    cutoff: await protectionCutoff(prisma, 0),
  };
  const figures: ReclaimFigures = { blobs: 0, bytesFreed: 0 };
  await forEachDigestBatch(prisma, 'Blob', Prisma.sql`t."stored" AND ${reclaimableBlob('t', scope)}`, options.signal, async (digests) => {
    const dropped = await releaseBlobs(prisma, storage, { releasable: (b) => reclaimableBlob(b, scope), cutoff: scope.cutoff, rows: 'keep' }, digests);
    figures.blobs += dropped.blobs;
    figures.bytesFreed += dropped.bytesFreed;
    options.onProgress?.({ ...figures });
  });
  return figures;
}
