import { Prisma, type PrismaClient } from '@cistern/db';
import type { BlobStore } from '@cistern/storage';
import { deleteFile } from './blob-files.ts';
import { protectionCutoff } from './collectable.ts';
import { forEachDigestBatch } from './digest-batches.ts';
import { reclaimableBlob, type ReclaimScope } from './reclaimable.ts';

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
    const dropped = await dropFiles(prisma, storage, scope, digests);
    figures.blobs += dropped.blobs;
    figures.bytesFreed += dropped.bytesFreed;
    options.onProgress?.({ ...figures });
  });
  return figures;
}

/**
 * Two steps, as orphan cleanup's, so that a crash at any point leaves rows
 * that tell the truth: the rows are marked not stored (committed), then,
 * under their locks again and checked again, the files are unlinked. Between
 * the two, a pull serves the file still there or fetches the blob anew.
 */
async function dropFiles(prisma: PrismaClient, storage: BlobStore, scope: ReclaimScope, digests: string[]): Promise<ReclaimFigures> {
  const marked = await prisma.$transaction(async (tx) => {
    // Rows a writer holds (a touch, a mark in flight) are skipped; the rest are checked again with a fresh statement.
    const locked = await tx.$queryRaw<{ digest: string }[]>`
      SELECT "digest" FROM "Blob" WHERE "digest" = ANY(${digests}::text[]) AND "stored" AND "lastUsedAt" < ${scope.cutoff}
      ORDER BY "digest" FOR UPDATE SKIP LOCKED`;
    if (locked.length === 0) return [];
    return tx.$queryRaw<{ digest: string; size: bigint }[]>`
      UPDATE "Blob" b SET "stored" = false
      WHERE b."digest" = ANY(${locked.map((row) => row.digest)}::text[]) AND b."stored" AND ${reclaimableBlob('b', scope)}
      RETURNING b."digest", b."size"`;
  });
  if (marked.length === 0) return { blobs: 0, bytesFreed: 0 };
  const sizes = new Map(marked.map((row) => [row.digest, Number(row.size)]));
  return prisma.$transaction(
    async (tx) => {
      const locked = await tx.$queryRaw<{ digest: string }[]>`
        SELECT "digest" FROM "Blob" WHERE "digest" = ANY(${[...sizes.keys()]}::text[]) AND NOT "stored" AND "lastUsedAt" < ${scope.cutoff}
        ORDER BY "digest" FOR UPDATE SKIP LOCKED`;
      // A fresh statement: a version, pin or touch committed before the lock is seen; a writer touching or marking a row later waits for the commit.
      const rows = await tx.$queryRaw<{ digest: string; reclaimable: boolean }[]>`
        SELECT b."digest", (${reclaimableBlob('b', scope)}) AS "reclaimable" FROM "Blob" b WHERE b."digest" = ANY(${locked.map((row) => row.digest)}::text[])`;
      const figures: ReclaimFigures = { blobs: 0, bytesFreed: 0 };
      const restored: string[] = [];
      for (const row of rows) {
        if (!row.reclaimable) {
          // Needed again since the mark (a kept version, a pin or a touched manifest): its file is still there.
          // A row touched itself was not locked: its writer marks it once it has the file.
          if (await storage.exists(row.digest)) restored.push(row.digest);
        } else if (await deleteFile(storage, row.digest)) {
          figures.blobs += 1;
          figures.bytesFreed += sizes.get(row.digest) ?? 0;
        }
      }
      if (restored.length > 0) await tx.$executeRaw`UPDATE "Blob" SET "stored" = true WHERE "digest" = ANY(${restored}::text[])`;
      return figures;
    },
    { timeout: 60_000 },
  );
}
