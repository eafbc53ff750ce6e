import { Prisma, type PrismaClient } from '../generated/client.ts';
import type { ContentHold } from './content-holds.ts';

/** A stored manifest a writer may rely on: touched for its hold, so cleanup leaves it. */
export interface TouchedManifest {
  digest: string;
  raw: Uint8Array;
  mediaType: string;
}

/** When `hold` began, as SQL: by the database's clock, as every lastUsedAt is. */
function holdStart(hold: ContentHold): Prisma.Sql {
  return Prisma.sql`(SELECT "startedAt" FROM "ContentHold" WHERE "id" = ${hold.id}::uuid)`;
}

/**
 * The Manifest rows of `digests` (canonical sha256 digests) that the holder of
 * `hold` may rely on. A row last touched before the hold began is touched now;
 * one that a cleanup deleted meanwhile is left out (the writer then fetches it
 * anew). The UPDATE takes the row lock that cleanup's delete takes, so the two
 * serialize. Rows come in no particular order.
 */
export async function touchManifests(prisma: PrismaClient, digests: readonly string[], hold: ContentHold): Promise<TouchedManifest[]> {
  if (digests.length === 0) return [];
  const wanted = [...new Set(digests)];
  const since = holdStart(hold);
  const rows = await prisma.$queryRaw<TouchedManifest[]>`
    WITH "touched" AS (
      UPDATE "Manifest" SET "lastUsedAt" = CURRENT_TIMESTAMP
      WHERE "digest" = ANY(${wanted}::text[]) AND "lastUsedAt" < ${since}
      RETURNING "digest", "raw", "mediaType"
    )
    SELECT "digest", "raw", "mediaType" FROM "touched"
    UNION ALL
    SELECT "digest", "raw", "mediaType" FROM "Manifest" WHERE "digest" = ANY(${wanted}::text[]) AND "lastUsedAt" >= ${since}`;
  if (rows.length === wanted.length) return rows;
  // Touched by another writer meanwhile: the UPDATE skipped them and the statement's snapshot was too old to see them.
  const found = new Set(rows.map((row) => row.digest));
  const missing = wanted.filter((digest) => !found.has(digest));
  const again = await prisma.$queryRaw<TouchedManifest[]>`
    SELECT "digest", "raw", "mediaType" FROM "Manifest" WHERE "digest" = ANY(${missing}::text[]) AND "lastUsedAt" >= ${since}`;
  return [...rows, ...again];
}

/**
 * Touches the Blob row of `digest` for a writer whose hold is live (an
 * on-demand fetch about to store it): false when no row is left (a cleanup
 * deleted it), and then nothing may be stored for it.
 */
export async function touchBlob(prisma: PrismaClient, digest: string): Promise<boolean> {
  return (await touchBlobs(prisma, [digest])).length > 0;
}

/**
 * Touches the Blob rows of `digests` for a writer whose hold is live and that
 * is about to store their files (a sync's downloads), so that no reclaim
 * unlinks what it writes: the digests of the rows touched, in no particular
 * order. Unconditional: a concurrent touch by another writer must not read as
 * "gone". Rows are locked in key order, so concurrent batches never deadlock.
 */
export async function touchBlobs(prisma: PrismaClient, digests: readonly string[]): Promise<string[]> {
  if (digests.length === 0) return [];
  const rows = await prisma.$queryRaw<{ digest: string }[]>`
    UPDATE "Blob" SET "lastUsedAt" = CURRENT_TIMESTAMP
    WHERE "digest" IN (SELECT "digest" FROM "Blob" WHERE "digest" = ANY(${[...new Set(digests)]}::text[]) ORDER BY "digest" FOR UPDATE)
    RETURNING "digest"`;
  return rows.map((row) => row.digest);
}
