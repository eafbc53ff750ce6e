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
 * The blobs a repository holds: those of the manifests of its membership rows.
 * A row exists while some existing version may hold it (retention and version
 * deletion prune the others), so every version is covered without naming one.
 */
const held = (repositoryId: string) => Prisma.sql`
  SELECT DISTINCT mb."blobDigest" AS digest
    FROM "RepositoryManifest" rm JOIN "ManifestBlob" mb ON mb."manifestDigest" = rm."manifestDigest"
   WHERE rm."repositoryId" = ${repositoryId}::uuid`;

/**
 * Of the repository's blobs, those another repository's manifests reference
 * too. Semi-joins from the repository's own blobs, so the work follows its
 * size, not the store's.
 */
const shared = (repositoryId: string) => Prisma.sql`
  SELECT DISTINCT mb."blobDigest" AS digest
    FROM held h JOIN "ManifestBlob" mb ON mb."blobDigest" = h.digest
   WHERE EXISTS (SELECT 1 FROM "RepositoryManifest" rm
                  WHERE rm."manifestDigest" = mb."manifestDigest" AND rm."repositoryId" <> ${repositoryId}::uuid)`;

/** The usage of one repository, in one statement (one snapshot); an unknown id holds nothing. */
export async function repositoryUsage(prisma: PrismaClient, repositoryId: string): Promise<RepositoryUsage> {
  const [row] = await prisma.$queryRaw<{ storedBytes: bigint; exclusiveBytes: bigint }[]>`
    WITH held AS (${held(repositoryId)}), shared AS (${shared(repositoryId)})
    SELECT COALESCE(sum(b.size), 0)::bigint AS "storedBytes",
           COALESCE(sum(b.size) FILTER (WHERE s.digest IS NULL), 0)::bigint AS "exclusiveBytes"
      FROM held h JOIN "Blob" b ON b.digest = h.digest AND b.stored
      LEFT JOIN shared s ON s.digest = h.digest`;
  // Sums of bigint sizes: exact as numbers up to 8 PiB.
  return { storedBytes: Number(row?.storedBytes ?? 0n), exclusiveBytes: Number(row?.exclusiveBytes ?? 0n) };
}
