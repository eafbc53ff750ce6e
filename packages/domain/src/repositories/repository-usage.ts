import { Prisma, type PrismaClient } from '@cistern/db';

/** What a repository's content occupies in the blob store, in bytes. */
export interface RepositoryUsage {
  /**
   * Bytes of the distinct stored blobs (Blob.stored) that the manifests of any
   * of the repository's existing versions reference: a blob shared by several
   * manifests counts once.
   */
  storedBytes: number;
  /**
   * Of those, the bytes of blobs no manifest of another repository's versions
   * references: what deleting the repository and then cleaning up orphans frees.
   */
  exclusiveBytes: number;
}

/**
 * Whether a manifest of the repositories `rm` matches references blob `b`.
 * Membership rows exist while some existing version may hold them (retention
 * and version deletion prune the others), so every version is covered
 * without naming one.
 */
const referenced = (repositories: Prisma.Sql) => Prisma.sql`
  EXISTS (SELECT 1 FROM "ManifestBlob" mb JOIN "RepositoryManifest" rm ON rm."manifestDigest" = mb."manifestDigest"
           WHERE mb."blobDigest" = b.digest AND ${repositories})`;

/**
 * The usage of one repository, in one statement (one snapshot); an unknown id
 * holds nothing. Sums run over Blob rows selected by EXISTS, so each blob counts
 * once however many manifests reference it, and no DISTINCT over digests is
 * sorted; the planner answers both tests with hash semi- and anti-joins.
 */
export async function repositoryUsage(prisma: PrismaClient, repositoryId: string): Promise<RepositoryUsage> {
  const [row] = await prisma.$queryRaw<{ storedBytes: bigint; exclusiveBytes: bigint }[]>`
    WITH held AS (
      SELECT b.digest, b.size FROM "Blob" b WHERE b.stored AND ${referenced(Prisma.sql`rm."repositoryId" = ${repositoryId}::uuid`)}
    )
    SELECT (SELECT COALESCE(sum(size), 0) FROM held)::bigint AS "storedBytes",
           (SELECT COALESCE(sum(size), 0) FROM held b
             WHERE NOT ${referenced(Prisma.sql`rm."repositoryId" <> ${repositoryId}::uuid`)})::bigint AS "exclusiveBytes"`;
  // Sums of bigint sizes: exact as numbers up to 8 PiB.
  return { storedBytes: Number(row?.storedBytes ?? 0n), exclusiveBytes: Number(row?.exclusiveBytes ?? 0n) };
}
