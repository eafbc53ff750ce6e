import { inVersion, inVersionSql, type PrismaClient } from '@cistern/db';

/**
 * Everything the read path asks of one repository version, loaded once.
 * Versions never change after they are written, so a snapshot never goes
 * stale; a distribution that moves simply resolves to another snapshot.
 */
export interface VersionSnapshot {
  /** Tag names in lexical (byte) order, for paging. */
  readonly tagNames: readonly string[];
  readonly tags: ReadonlyMap<string, string>;
  /** The version's manifests by their canonical (sha256) digest. */
  readonly manifests: ReadonlySet<string>;
  /** Other digests of the version's manifests (sha512:…) → canonical digest. */
  readonly aliases: ReadonlyMap<string, string>;
  /** Blobs referenced by the version's manifests (configs and layers). */
  readonly blobs: ReadonlySet<string>;
  /** subject digest → digests of the version's manifests that name it. */
  readonly referrers: ReadonlyMap<string, readonly string[]>;
}

export const EMPTY_SNAPSHOT: VersionSnapshot = {
  tagNames: [],
  tags: new Map(),
  manifests: new Set(),
  aliases: new Map(),
  blobs: new Set(),
  referrers: new Map(),
};

export async function loadVersionSnapshot(prisma: PrismaClient, repositoryId: string, version: number): Promise<VersionSnapshot> {
  const [tagRows, manifestRows, aliasRows, blobRows, subjectRows] = await Promise.all([
    prisma.repositoryTag.findMany({ where: { repositoryId, ...inVersion(version) }, select: { name: true, manifestDigest: true } }),
    prisma.repositoryManifest.findMany({ where: { repositoryId, ...inVersion(version) }, select: { manifestDigest: true } }),
    prisma.$queryRaw<{ digest: string; canonical: string }[]>`
      SELECT a.digest, a."manifestDigest" AS canonical
        FROM "RepositoryManifest" rm JOIN "ManifestAlias" a ON a."manifestDigest" = rm."manifestDigest"
       WHERE rm."repositoryId" = ${repositoryId}::uuid AND ${inVersionSql('rm', version)}`,
    prisma.$queryRaw<{ digest: string }[]>`
      SELECT DISTINCT mb."blobDigest" AS digest
        FROM "RepositoryManifest" rm JOIN "ManifestBlob" mb ON mb."manifestDigest" = rm."manifestDigest"
       WHERE rm."repositoryId" = ${repositoryId}::uuid AND ${inVersionSql('rm', version)}`,
    prisma.$queryRaw<{ digest: string; subject: string }[]>`
      SELECT m.digest, m."subjectDigest" AS subject
        FROM "RepositoryManifest" rm JOIN "Manifest" m ON m.digest = rm."manifestDigest"
       WHERE rm."repositoryId" = ${repositoryId}::uuid AND ${inVersionSql('rm', version)} AND m."subjectDigest" IS NOT NULL`,
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
    aliases: new Map(aliasRows.map((a) => [a.digest, a.canonical])),
    blobs: new Set(blobRows.map((b) => b.digest)),
    referrers,
  };
}

/** The canonical digest of the version's manifest known by `digest`, or undefined when the version holds none. */
export function memberDigest(snapshot: VersionSnapshot, digest: string): string | undefined {
  return snapshot.manifests.has(digest) ? digest : snapshot.aliases.get(digest);
}

/** Every digest the version knows the manifest named by `digest` under (just `digest` when it holds none). */
export function knownDigests(snapshot: VersionSnapshot, digest: string): string[] {
  const canonical = memberDigest(snapshot, digest);
  if (canonical === undefined) return [digest];
  return [canonical, ...[...snapshot.aliases].filter(([, c]) => c === canonical).map(([alias]) => alias)];
}

/** Tags are ASCII, so UTF-16 code-unit order is byte order; localeCompare would not be. */
export function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
