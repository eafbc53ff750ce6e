import { inVersion, inVersionSql, Prisma, type PrismaClient } from '@cistern/db';

/** How many of each kind of content. */
export interface ContentCounts {
  manifests: number;
  tags: number;
  blobs: number;
}

/** A version's content against its base: what it added, what it removed, what it holds. */
export interface VersionContent {
  added: ContentCounts;
  removed: ContentCounts;
  present: ContentCounts;
}

/** The distinct blobs of version `n`'s manifests. */
const blobsOf = (repositoryId: string, n: number) => Prisma.sql`
  SELECT DISTINCT mb."blobDigest" FROM "RepositoryManifest" rm JOIN "ManifestBlob" mb ON mb."manifestDigest" = rm."manifestDigest"
   WHERE rm."repositoryId" = ${repositoryId}::uuid AND ${inVersionSql('rm', n)}`;

/** How many distinct blobs of a version's manifests are not blobs of another version (or of none). */
async function blobDifference(prisma: PrismaClient, repositoryId: string, n: number, minus: number | null): Promise<number> {
  const blobs = minus === null ? blobsOf(repositoryId, n) : Prisma.sql`${blobsOf(repositoryId, n)} EXCEPT ${blobsOf(repositoryId, minus)}`;
  const rows = await prisma.$queryRaw<{ count: bigint }[]>`SELECT count(*) AS count FROM (${blobs}) AS difference`;
  return Number(rows[0]?.count ?? 0);
}

/**
 * Added, removed and present counts of version `n` against its base (the
 * previous version unless the writer said otherwise). Blobs are derived from
 * manifests, so their changes are set differences, not membership rows.
 */
export async function versionContent(prisma: PrismaClient, repositoryId: string, n: number, baseVersion: number | null): Promise<VersionContent> {
  const base = baseVersion ?? (n > 0 ? n - 1 : null);
  const counts = async (where: object) =>
    Promise.all([prisma.repositoryManifest.count({ where: { repositoryId, ...where } }), prisma.repositoryTag.count({ where: { repositoryId, ...where } })]);
  const [[addedManifests, addedTags], [removedManifests, removedTags], [presentManifests, presentTags], blobs] = await Promise.all([
    counts({ versionAdded: n }),
    counts({ versionRemoved: n }),
    counts(inVersion(n)),
    Promise.all([
      blobDifference(prisma, repositoryId, n, base),
      base === null ? Promise.resolve(0) : blobDifference(prisma, repositoryId, base, n),
      blobDifference(prisma, repositoryId, n, null),
    ]),
  ]);
  const [addedBlobs, removedBlobs, presentBlobs] = blobs;
  return {
    added: { manifests: addedManifests, tags: addedTags, blobs: addedBlobs },
    removed: { manifests: removedManifests, tags: removedTags, blobs: removedBlobs },
    present: { manifests: presentManifests, tags: presentTags, blobs: presentBlobs },
  };
}
