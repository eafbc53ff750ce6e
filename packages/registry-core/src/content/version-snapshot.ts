import { inVersion, type PrismaClient } from '@cistern/db';

/**
 * Everything the read path asks of one repository version, loaded once.
 * Versions never change after they are written, so a snapshot never goes
 * stale; a distribution that moves simply resolves to another snapshot.
 */
export interface VersionSnapshot {
  /** Tag names in lexical (byte) order, for paging. */
  readonly tagNames: readonly string[];
  readonly tags: ReadonlyMap<string, string>;
  readonly manifests: ReadonlySet<string>;
  /** Blobs referenced by the version's manifests (configs and layers). */
  readonly blobs: ReadonlySet<string>;
  /** subject digest → digests of the version's manifests that name it. */
  readonly referrers: ReadonlyMap<string, readonly string[]>;
}

export const EMPTY_SNAPSHOT: VersionSnapshot = {
  tagNames: [],
  tags: new Map(),
  manifests: new Set(),
  blobs: new Set(),
  referrers: new Map(),
};

export async function loadVersionSnapshot(prisma: PrismaClient, repositoryId: string, version: number): Promise<VersionSnapshot> {
  const [tagRows, manifestRows, blobRows, subjectRows] = await Promise.all([
    prisma.repositoryTag.findMany({ where: { repositoryId, ...inVersion(version) }, select: { name: true, manifestDigest: true } }),
    prisma.repositoryManifest.findMany({ where: { repositoryId, ...inVersion(version) }, select: { manifestDigest: true } }),
    prisma.$queryRaw<{ digest: string }[]>`
      SELECT DISTINCT mb."blobDigest" AS digest
        FROM "RepositoryManifest" rm JOIN "ManifestBlob" mb ON mb."manifestDigest" = rm."manifestDigest"
       WHERE rm."repositoryId" = ${repositoryId}::uuid AND rm."versionAdded" <= ${version}
         AND (rm."versionRemoved" IS NULL OR rm."versionRemoved" > ${version})`,
    prisma.$queryRaw<{ digest: string; subject: string }[]>`
      SELECT m.digest, m."subjectDigest" AS subject
        FROM "RepositoryManifest" rm JOIN "Manifest" m ON m.digest = rm."manifestDigest"
       WHERE rm."repositoryId" = ${repositoryId}::uuid AND rm."versionAdded" <= ${version}
         AND (rm."versionRemoved" IS NULL OR rm."versionRemoved" > ${version}) AND m."subjectDigest" IS NOT NULL`,
  ]);
  const tags = new Map(tagRows.map((t) => [t.name, t.manifestDigest]));
  const referrers = new Map<string, string[]>();
  for (const { digest, subject } of subjectRows) {
    const list = referrers.get(subject);
    if (list) list.push(digest);
    else referrers.set(subject, [digest]);
  }
  return {
    tagNames: [...tags.keys()].sort(byteOrder),
    tags,
    manifests: new Set(manifestRows.map((m) => m.manifestDigest)),
    blobs: new Set(blobRows.map((b) => b.digest)),
    referrers,
  };
}

/** Tags are ASCII, so UTF-16 code-unit order is byte order; localeCompare would not be. */
export function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
