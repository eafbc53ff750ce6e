import type { PrismaClient } from '@cistern/db';

export interface ContentCounts {
  manifests: number;
  tags: number;
  blobs: number;
}

/** Membership of version n in a [versionAdded, versionRemoved) range. */
export const presentIn = (n: number) => ({
  versionAdded: { lte: n },
  OR: [{ versionRemoved: null }, { versionRemoved: { gt: n } }],
});

/** The distinct blobs of a version's manifests, minus those of another version (or of none). */
async function blobDifference(prisma: PrismaClient, repositoryId: string, n: number, minus: number | null): Promise<number> {
  const rows = await prisma.$queryRaw<{ count: bigint }[]>`
    SELECT count(*) AS count FROM (
      SELECT mb."blobDigest" FROM "RepositoryManifest" rm JOIN "ManifestBlob" mb ON mb."manifestDigest" = rm."manifestDigest"
      WHERE rm."repositoryId" = ${repositoryId}::uuid AND rm."versionAdded" <= ${n} AND (rm."versionRemoved" IS NULL OR rm."versionRemoved" > ${n})
      EXCEPT
      SELECT mb."blobDigest" FROM "RepositoryManifest" rm JOIN "ManifestBlob" mb ON mb."manifestDigest" = rm."manifestDigest"
      WHERE ${minus}::int IS NOT NULL AND rm."repositoryId" = ${repositoryId}::uuid
        AND rm."versionAdded" <= ${minus}::int AND (rm."versionRemoved" IS NULL OR rm."versionRemoved" > ${minus}::int)
    ) AS difference`;
  return Number(rows[0]?.count ?? 0);
}

/**
 * Added, removed and present counts of one version against its base (the
 * previous version unless the sync said otherwise). Blobs are derived from
 * manifests, so their changes are set differences, not range rows.
 */
export async function versionContent(prisma: PrismaClient, repositoryId: string, n: number, baseVersion: number | null) {
  const base = baseVersion ?? (n > 0 ? n - 1 : null);
  const counts = async (where: object) =>
    Promise.all([
      prisma.repositoryManifest.count({ where: { repositoryId, ...where } }),
      prisma.repositoryTag.count({ where: { repositoryId, ...where } }),
    ]);
  const [[addedManifests, addedTags], [removedManifests, removedTags], [presentManifests, presentTags], blobs] = await Promise.all([
    counts({ versionAdded: n }),
    counts({ versionRemoved: n }),
    counts(presentIn(n)),
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
  } satisfies Record<string, ContentCounts>;
}

/**
 * After a version is deleted, range rows that covered only deleted versions
 * describe nothing any more; the ranges of surviving versions are untouched.
 */
export async function dropOrphanRanges(prisma: Pick<PrismaClient, '$executeRawUnsafe'>, repositoryId: string): Promise<void> {
  // Table names come from this fixed list, never from input.
  for (const table of ['RepositoryManifest', 'RepositoryTag']) {
    await prisma.$executeRawUnsafe(
      `DELETE FROM "${table}" r WHERE r."repositoryId" = $1::uuid AND r."versionRemoved" IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM "RepositoryVersion" v
         WHERE v."repositoryId" = r."repositoryId" AND v.number >= r."versionAdded" AND v.number < r."versionRemoved")`,
      repositoryId,
    );
  }
}
