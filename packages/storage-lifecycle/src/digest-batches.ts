import { Prisma, type PrismaClient } from '@cistern/db';

/** Rows per batch: each batch is a few short transactions, so memory and lock time stay bounded. */
const BATCH = 1000;

/**
 * Hands `each` the digests of the `table` rows (aliased `t` in `where`) that
 * `where` selects, a batch at a time in digest order: keyset paging, so rows
 * a batch changes or deletes never shift the next one. Checks `signal`
 * before each batch.
 */
export async function forEachDigestBatch(
  prisma: PrismaClient,
  table: 'Manifest' | 'Blob',
  where: Prisma.Sql,
  signal: AbortSignal | undefined,
  each: (digests: string[]) => Promise<void>,
): Promise<void> {
  for (let after = ''; ;) {
    signal?.throwIfAborted();
    // The table name comes from the fixed list above, never from input.
    const batch = await prisma.$queryRaw<{ digest: string }[]>`
      SELECT t."digest" FROM ${Prisma.raw(`"${table}"`)} t WHERE t."digest" > ${after} AND ${where} ORDER BY t."digest" LIMIT ${BATCH}`;
    if (batch.length === 0) return;
    after = batch[batch.length - 1]?.digest ?? after;
    await each(batch.map((row) => row.digest));
  }
}
