import { Prisma, type PrismaClient } from '@cistern/db';
import type { BlobStore } from '@cistern/storage';
import { collectableBlob, collectableManifest, protectionCutoff } from './collectable.ts';
import { forEachDigestBatch } from './digest-batches.ts';
import { lockUntouched } from './lock-untouched.ts';
import { releaseBlobs } from './release-blobs.ts';

export interface CleanupOptions {
  /** Rows touched this recently (minutes) are kept; 0 keeps only what live content holds protect. */
  protectionTimeMinutes: number;
  /** Count what would go, delete nothing. */
  dryRun: boolean;
  /** Stops between batches. */
  signal?: AbortSignal;
  /** Told after each batch, with the figures so far. */
  onProgress?: (figures: CleanupFigures) => void;
}

/** What a cleanup removed (or, dry, would remove). Bytes are of stored blobs' files. */
export interface CleanupFigures {
  manifests: number;
  blobs: number;
  /** Remote-artifact records that went with their blobs. */
  remoteArtifacts: number;
  bytesFreed: number;
}

/**
 * Orphan cleanup (Pulp's term; garbage collection in Distribution and zot):
 * deletes manifests that no repository version references, then blobs that no
 * manifest references, their files and their remote-artifact records, all
 * past the protection time and untouched since the oldest live content hold
 * began. Safe beside syncs, on-demand fetches and other cleanups in any
 * process; the protocol is in the README, "Storage lifecycle". Rejects when
 * the database or the store does; what it removed so far stays removed.
 */
export async function cleanupOrphans(prisma: PrismaClient, storage: BlobStore, options: CleanupOptions): Promise<CleanupFigures> {
  const cutoff = await protectionCutoff(prisma, options.protectionTimeMinutes);
  if (options.dryRun) return countCollectable(prisma, cutoff);
  // Holds of holders that died without releasing them: expired, they protect nothing; kept an hour for the curious.
  await prisma.$executeRaw`DELETE FROM "ContentHold" WHERE "expiresAt" < CURRENT_TIMESTAMP - interval '1 hour'`;
  const figures: CleanupFigures = { manifests: 0, blobs: 0, remoteArtifacts: 0, bytesFreed: 0 };
  await forEachDigestBatch(prisma, 'Manifest', collectableManifest('t', cutoff), options.signal, async (digests) => {
    figures.manifests += await deleteManifests(prisma, cutoff, digests);
    options.onProgress?.({ ...figures });
  });
  await forEachDigestBatch(prisma, 'Blob', collectableBlob('t', cutoff, 'all'), options.signal, async (digests) => {
    const removed = await releaseBlobs(prisma, storage, { releasable: (b) => collectableBlob(b, cutoff, 'all'), cutoff, rows: 'delete' }, digests);
    figures.blobs += removed.blobs;
    figures.remoteArtifacts += removed.remoteArtifacts;
    figures.bytesFreed += removed.bytesFreed;
    options.onProgress?.({ ...figures });
  });
  return figures;
}

async function deleteManifests(prisma: PrismaClient, cutoff: Prisma.Sql, digests: string[]): Promise<number> {
  return prisma.$transaction(async (tx) => {
    const locked = await lockUntouched(tx, 'Manifest', digests, cutoff);
    if (locked.length === 0) return 0;
    // Their blob links, aliases and index entries go with them (ON DELETE CASCADE).
    return tx.$executeRaw`DELETE FROM "Manifest" m WHERE m."digest" = ANY(${locked}::text[]) AND ${collectableManifest('m', cutoff)}`;
  });
}

/**
 * Everything no version needs now, whatever its age and whatever writers hold:
 * what a cleanup would remove with no protection beside no writer. Bytes are of stored blobs.
 */
export function countOrphans(prisma: PrismaClient): Promise<CleanupFigures> {
  return countCollectable(prisma, Prisma.sql`'infinity'::timestamp`);
}

/** The dry run: what the real run would remove now, by the same rule, deleting nothing. */
async function countCollectable(prisma: PrismaClient, cutoff: Prisma.Sql): Promise<CleanupFigures> {
  const [manifests] = await prisma.$queryRaw<{ n: bigint }[]>`SELECT count(*) AS "n" FROM "Manifest" m WHERE ${collectableManifest('m', cutoff)}`;
  const [blobs] = await prisma.$queryRaw<{ n: bigint; artifacts: bigint; bytes: bigint | null }[]>`
    SELECT count(*) AS "n",
      sum((SELECT count(*) FROM "RemoteArtifact" ra WHERE ra."blobDigest" = b."digest"))::bigint AS "artifacts",
      sum(CASE WHEN b."stored" THEN b."size" ELSE 0 END)::bigint AS "bytes"
    FROM "Blob" b WHERE ${collectableBlob('b', cutoff, 'not-collectable')}`;
  return {
    manifests: Number(manifests?.n ?? 0),
    blobs: Number(blobs?.n ?? 0),
    remoteArtifacts: Number(blobs?.artifacts ?? 0),
    bytesFreed: Number(blobs?.bytes ?? 0),
  };
}
