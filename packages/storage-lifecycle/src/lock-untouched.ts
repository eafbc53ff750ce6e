import { Prisma } from '@cistern/db';

/**
 * Locks the rows of `digests` in `table` untouched since `cutoff` (and
 * meeting `andWhere`), skipping rows a writer holds (a foreign-key insert, a
 * touch or a mark in flight); answers the digests locked. The caller then
 * checks them again with a fresh statement: a reference committed before the
 * lock is seen, and none can come while it is held.
 */
export async function lockUntouched(
  tx: Prisma.TransactionClient,
  table: 'Manifest' | 'Blob',
  digests: string[],
  cutoff: Prisma.Sql,
  andWhere: Prisma.Sql = Prisma.empty,
): Promise<string[]> {
  // The table name comes from this fixed pair, never from input.
  const rows = await tx.$queryRaw<{ digest: string }[]>`
    SELECT "digest" FROM ${Prisma.raw(`"${table}"`)} WHERE "digest" = ANY(${digests}::text[]) AND "lastUsedAt" < ${cutoff} ${andWhere}
    ORDER BY "digest" FOR UPDATE SKIP LOCKED`;
  return rows.map((row) => row.digest);
}
