import { Prisma } from '@cistern/db';

import type { PrismaClient } from '@cistern/db';

// The rule of what cleanup may collect, written once for the real run and the
// dry run. `cutoff` is a SQL timestamp: rows touched (lastUsedAt) at or after
// it are protected.

/**
 * The cutoff of a cleanup starting now: `now − protection`, or the start of
 * the oldest live content hold if earlier, by the database's clock. Fixed for
 * the whole run: a hold taken later starts after it, so what it touches is
 * protected too. Kept as SQL text, so no other clock ever reads it.
 */
export async function protectionCutoff(prisma: PrismaClient, protectionTimeMinutes: number): Promise<Prisma.Sql> {
  const [row] = await prisma.$queryRaw<{ cutoff: string }[]>`
    SELECT LEAST(
      CURRENT_TIMESTAMP::timestamp(3) - make_interval(mins => ${protectionTimeMinutes}::int),
      COALESCE((SELECT min("startedAt") FROM "ContentHold" WHERE "expiresAt" > CURRENT_TIMESTAMP), 'infinity'::timestamp)
    )::text AS "cutoff"`;
  return Prisma.sql`${row?.cutoff}::timestamp`;
}

/**
 * A manifest (alias `m`) that no repository version references (no membership
 * row, no tag row) and that no pull-through cache is about to put in a version.
 */
export const unreferencedManifest = (m: string): Prisma.Sql =>
  Prisma.sql`NOT EXISTS (SELECT 1 FROM "RepositoryManifest" rm WHERE rm."manifestDigest" = ${Prisma.raw(m)}."digest")
    AND NOT EXISTS (SELECT 1 FROM "RepositoryTag" rt WHERE rt."manifestDigest" = ${Prisma.raw(m)}."digest")
    AND NOT EXISTS (SELECT 1 FROM "PendingCacheWrite" pw WHERE pw."manifestDigest" = ${Prisma.raw(m)}."digest")`;

/** An orphan manifest (alias `m`) past its protection: collectable. */
export const collectableManifest = (m: string, cutoff: Prisma.Sql): Prisma.Sql =>
  Prisma.sql`${Prisma.raw(m)}."lastUsedAt" < ${cutoff} AND ${unreferencedManifest(m)}`;

/**
 * A blob (alias `b`) past its protection that no manifest surviving the
 * cleanup references. `surviving` is how manifests are judged: in the real
 * run collectable manifests are already gone, so every manifest survives; the
 * dry run counts those it would delete as gone.
 */
export const collectableBlob = (b: string, cutoff: Prisma.Sql, surviving: 'all' | 'not-collectable'): Prisma.Sql =>
  surviving === 'all'
    ? // Every link has its manifest (foreign key): no join needed.
      Prisma.sql`${Prisma.raw(b)}."lastUsedAt" < ${cutoff} AND NOT EXISTS (SELECT 1 FROM "ManifestBlob" mb WHERE mb."blobDigest" = ${Prisma.raw(b)}."digest")`
    : Prisma.sql`${Prisma.raw(b)}."lastUsedAt" < ${cutoff} AND NOT EXISTS (
        SELECT 1 FROM "ManifestBlob" mb JOIN "Manifest" sm ON sm."digest" = mb."manifestDigest"
        WHERE mb."blobDigest" = ${Prisma.raw(b)}."digest" AND NOT (${collectableManifest('sm', cutoff)}))`;
