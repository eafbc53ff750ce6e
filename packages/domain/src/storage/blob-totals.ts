import type { PrismaClient } from '@cistern/db';

/** The Blob table at a glance; sizes in bytes. */
export interface BlobTotals {
  /** Blob rows, stored or not (on-demand and foreign blobs are rows before they are bytes). */
  count: number;
  /** Blob rows whose verified bytes are in storage. */
  storedCount: number;
  /** Total size of the stored blobs, in bytes (exact as a number up to 8 PiB). */
  storedBytes: number;
}

/** Blob rows and the stored ones' count and bytes, in one statement (one scan of Blob). */
export async function blobTotals(prisma: PrismaClient): Promise<BlobTotals> {
  const [row] = await prisma.$queryRaw<{ count: bigint; storedCount: bigint; storedBytes: bigint }[]>`
    SELECT count(*) AS "count", count(*) FILTER (WHERE "stored") AS "storedCount",
           COALESCE(sum("size") FILTER (WHERE "stored"), 0)::bigint AS "storedBytes"
      FROM "Blob"`;
  return { count: Number(row?.count ?? 0n), storedCount: Number(row?.storedCount ?? 0n), storedBytes: Number(row?.storedBytes ?? 0n) };
}
