import type { Prisma, PrismaClient, RepositoryVersion } from '../generated/client.ts';
import { isAliasDigest, resolveAliases } from './manifest-aliases.ts';

type Tx = Prisma.TransactionClient;

/** Digests may be any a manifest is known by; membership rows always name its sha256 (its Manifest row). */
export interface VersionChanges {
  /** Manifest digests to add; they must already be stored as Manifest rows (or their aliases). */
  addManifests?: Iterable<string>;
  removeManifests?: Iterable<string>;
  /** name → manifest digest; a name already present with another digest moves. */
  addTags?: Iterable<readonly [string, string]>;
  removeTags?: Iterable<string>;
  /** `addTags` is the new version's whole tag set: every other tag is removed (a mirror sync). */
  replaceTags?: boolean;
}

export interface WrittenVersion {
  version: RepositoryVersion;
  added: { manifests: number; tags: number };
  removed: { manifests: number; tags: number };
  /** Version numbers retention deleted. */
  pruned: number[];
}

export class VersionWriteError extends Error {
  constructor(
    readonly code: 'REPOSITORY_UNKNOWN' | 'TAG_TARGET_MISSING',
    message: string,
  ) {
    super(message);
  }
}

const CHUNK = 5000;

/**
 * Writes version N+1 of a repository from its latest version plus changes, in one
 * transaction with the repository row locked, so concurrent writers serialize.
 * A tag is unique per version: a moved tag closes one row and opens another, and
 * tags whose manifest leaves the version leave with it. Returns null when nothing
 * would change (no empty versions). Applies the repository's retention.
 */
export async function writeRepositoryVersion(
  prisma: PrismaClient,
  repositoryId: string,
  changes: VersionChanges,
): Promise<WrittenVersion | null> {
  return prisma.$transaction(
    async (tx) => {
      const locked = await tx.$queryRaw<{ latestVersion: number; retainVersions: number | null }[]>`
        SELECT "latestVersion", "retainVersions" FROM "Repository" WHERE id = ${repositoryId}::uuid FOR UPDATE`;
      const repo = locked[0];
      if (!repo) throw new VersionWriteError('REPOSITORY_UNKNOWN', `repository ${repositoryId} does not exist`);

      // Open rows (versionRemoved null) are exactly the latest version's content.
      const openManifests = await tx.repositoryManifest.findMany({
        where: { repositoryId, versionRemoved: null },
        select: { id: true, manifestDigest: true },
      });
      const openTags = await tx.repositoryTag.findMany({
        where: { repositoryId, versionRemoved: null },
        select: { id: true, name: true, manifestDigest: true },
      });
      const manifestRow = new Map(openManifests.map((m) => [m.manifestDigest, m.id]));
      const tagRow = new Map(openTags.map((t) => [t.name, t]));

      const requested = { add: [...(changes.addManifests ?? [])], remove: [...(changes.removeManifests ?? [])] };
      const aliases = await resolveAliases(tx, [...requested.add, ...requested.remove]);
      const canonical = (digest: string) => aliases.get(digest) ?? digest;
      const wanted = new Set(requested.add.map(canonical));
      const addManifests = new Set([...wanted].filter((d) => !manifestRow.has(d)));
      // A digest both added and removed stays: adding wins.
      const removeManifests = new Set(requested.remove.map(canonical).filter((d) => manifestRow.has(d) && !wanted.has(d)));
      const present = (digest: string) => (manifestRow.has(digest) && !removeManifests.has(digest)) || addManifests.has(digest);

      const closeTags = new Set<bigint>();
      const openTagRows = new Map<string, string>();
      for (const name of changes.removeTags ?? []) {
        const row = tagRow.get(name);
        if (row) closeTags.add(row.id);
      }
      const named = new Set<string>();
      const addTag = (name: string, digest: string) => {
        if (changes.replaceTags) named.add(name);
        if (!present(digest)) {
          throw new VersionWriteError('TAG_TARGET_MISSING', `tag ${name} points at ${digest}, which the new version does not contain`);
        }
        const row = tagRow.get(name);
        if (row && row.manifestDigest === digest) {
          closeTags.delete(row.id);
          return;
        }
        if (row) closeTags.add(row.id);
        openTagRows.set(name, digest);
      };
      // Targets named by an alias not resolved above are resolved afterwards, together: tag lists are iterated once.
      const aliasedTags: [string, string][] = [];
      for (const [name, target] of changes.addTags ?? []) {
        if (isAliasDigest(target) && !aliases.has(target)) aliasedTags.push([name, target]);
        else addTag(name, canonical(target));
      }
      const tagAliases = await resolveAliases(tx, aliasedTags.map(([, target]) => target));
      for (const [name, target] of aliasedTags) addTag(name, tagAliases.get(target) ?? target);
      for (const row of openTags) {
        if (!present(row.manifestDigest) || (changes.replaceTags && !named.has(row.name))) closeTags.add(row.id);
      }

      if (addManifests.size + removeManifests.size + closeTags.size + openTagRows.size === 0) return null;

      const number = repo.latestVersion + 1;
      const version = await tx.repositoryVersion.create({
        data: { repositoryId, number, baseVersion: repo.latestVersion },
      });
      const removedManifestIds = [...removeManifests].map((d) => manifestRow.get(d) as bigint);
      for (const ids of chunks(removedManifestIds)) {
        await tx.repositoryManifest.updateMany({ where: { id: { in: ids } }, data: { versionRemoved: number } });
      }
      for (const ids of chunks([...closeTags])) {
        await tx.repositoryTag.updateMany({ where: { id: { in: ids } }, data: { versionRemoved: number } });
      }
      for (const digests of chunks([...addManifests])) {
        await tx.repositoryManifest.createMany({
          data: digests.map((manifestDigest) => ({ repositoryId, manifestDigest, versionAdded: number })),
        });
      }
      for (const tags of chunks([...openTagRows])) {
        await tx.repositoryTag.createMany({
          data: tags.map(([name, manifestDigest]) => ({ repositoryId, name, manifestDigest, versionAdded: number })),
        });
      }
      await tx.repository.update({ where: { id: repositoryId }, data: { latestVersion: number } });
      const pruned = repo.retainVersions ? await applyRetention(tx, repositoryId, repo.retainVersions) : [];
      return {
        version,
        added: { manifests: addManifests.size, tags: openTagRows.size },
        removed: { manifests: removeManifests.size, tags: closeTags.size },
        pruned,
      };
    },
    { timeout: 120_000, maxWait: 30_000 },
  );
}

/** Keeps the newest `retain` versions, version 0, and every version a distribution pins. */
export async function applyRetention(tx: Tx, repositoryId: string, retain: number): Promise<number[]> {
  const versions = await tx.repositoryVersion.findMany({
    where: { repositoryId },
    select: { id: true, number: true, _count: { select: { distributions: true } } },
    orderBy: { number: 'desc' },
  });
  const doomed = versions.slice(retain).filter((v) => v.number !== 0 && v._count.distributions === 0);
  if (doomed.length === 0) return [];
  await tx.repositoryVersion.deleteMany({ where: { id: { in: doomed.map((v) => v.id) } } });
  await pruneMembership(tx, repositoryId);
  return doomed.map((v) => v.number).sort((a, b) => a - b);
}

/** Deletes membership rows no remaining version can see. */
export async function pruneMembership(tx: Tx, repositoryId: string): Promise<void> {
  for (const table of ['RepositoryManifest', 'RepositoryTag'] as const) {
    await tx.$executeRawUnsafe(
      `DELETE FROM "${table}" r WHERE r."repositoryId" = $1::uuid AND r."versionRemoved" IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM "RepositoryVersion" v WHERE v."repositoryId" = r."repositoryId"
                         AND v.number >= r."versionAdded" AND v.number < r."versionRemoved")`,
      repositoryId,
    );
  }
}

function chunks<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}
