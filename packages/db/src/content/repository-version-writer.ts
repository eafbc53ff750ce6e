import { CisternError } from '@cistern/errors';
import { chunked } from '../chunked.ts';
import { Prisma, type PrismaClient, type RepositoryVersion } from '../generated/client.ts';
import { inVersionSql } from './version-range.ts';

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

/** A version that cannot be written: its repository is gone, or a tag would point at a manifest it lacks. */
export class VersionWriteError extends CisternError<'REPOSITORY_UNKNOWN' | 'TAG_TARGET_MISSING'> {
  override readonly name = 'VersionWriteError';
}

/** Rows per statement when streaming changes into the staging tables: memory stays flat whatever the number of tags. */
const CHUNK = 5000;

/**
 * `u.digest` by its canonical (sha256) digest, as `resolveAliases` resolves it:
 * a known alias becomes its manifest's digest, anything else stays as given.
 */
const CANONICAL = `COALESCE(a."manifestDigest", u.digest)`;
const ALIASED = `LEFT JOIN "ManifestAlias" a ON u.digest NOT LIKE 'sha256:%' AND a.digest = u.digest`;

/** Open rows (versionRemoved null) are exactly the latest version's content. */
const open = (row: string) => `${row}."repositoryId" = $1::uuid AND ${row}."versionRemoved" IS NULL`;

/** The new version's manifests: the wanted ones, and the open ones not staged for removal. */
const PRESENT = `present AS (
  SELECT digest FROM staged_manifest WHERE wanted
  UNION ALL
  SELECT m."manifestDigest" FROM "RepositoryManifest" m
   WHERE ${open('m')} AND NOT EXISTS (SELECT 1 FROM staged_manifest s WHERE s.digest = m."manifestDigest"))`;

/**
 * Writes version N+1 of a repository from its latest version plus changes, in one
 * transaction with the repository row locked, so concurrent writers serialize.
 * A tag is unique per version: a moved tag closes one row and opens another, and
 * tags whose manifest leaves the version leave with it. Returns null when nothing
 * would change (no empty versions). Applies the repository's retention.
 *
 * Changes are streamed in chunks into temporary tables and applied with
 * set-based statements, so a mirror of a million tags costs the writer neither
 * memory in proportion nor a round trip per row. The database user therefore needs
 * the TEMP privilege on the database (PostgreSQL grants it to every user by default).
 */
export async function writeRepositoryVersion(prisma: PrismaClient, repositoryId: string, changes: VersionChanges): Promise<WrittenVersion | null> {
  return prisma.$transaction(
    async (tx) => {
      // NO KEY UPDATE: writers still serialize, but rows that only reference the repository (a pull-through's
      // pending write, whose foreign-key check takes KEY SHARE) are not held up for as long as a large version takes.
      const locked = await tx.$queryRaw<{ latestVersion: number; retainVersions: number | null }[]>`
        SELECT "latestVersion", "retainVersions" FROM "Repository" WHERE id = ${repositoryId}::uuid FOR NO KEY UPDATE`;
      const repo = locked[0];
      if (!repo) throw new VersionWriteError('REPOSITORY_UNKNOWN', `repository ${repositoryId} does not exist`);

      await stageManifests(tx, changes.addManifests ?? [], changes.removeManifests ?? []);
      await stageTags(tx, changes.addTags ?? [], changes.removeTags ?? []);
      // Autovacuum never analyzes temporary tables: without statistics the joins below are planned on a guessed size.
      await tx.$executeRawUnsafe(`ANALYZE staged_manifest, staged_tag`);
      const [missing] = await tx.$queryRawUnsafe<{ name: string; digest: string }[]>(
        `WITH ${PRESENT}
         SELECT t.name, t.digest FROM staged_tag t
          WHERE t.digest IS NOT NULL AND NOT EXISTS (SELECT 1 FROM present p WHERE p.digest = t.digest)
          ORDER BY t.seq LIMIT 1`,
        repositoryId,
      );
      if (missing) {
        throw new VersionWriteError('TAG_TARGET_MISSING', `tag ${missing.name} points at ${missing.digest}, which the new version does not contain`);
      }

      // Membership rows name versions by number and have no key to the version row, so they are written first:
      // their counts say whether anything changed, and when nothing did, every statement touched no row.
      const number = repo.latestVersion + 1;
      // Tags first, while the open manifests are still the latest version's. A tag closes when it is given
      // with another digest, named for removal (adding wins), absent from a whole new tag set, or its manifest leaves.
      const closedTags = await tx.$executeRawUnsafe(
        `WITH ${PRESENT}
         UPDATE "RepositoryTag" SET "versionRemoved" = $2::int WHERE id IN (
           SELECT r.id FROM "RepositoryTag" r LEFT JOIN staged_tag t ON t.name = r.name
            WHERE ${open('r')}
              AND ((t.name IS NOT NULL OR $3::boolean) AND t.digest IS DISTINCT FROM r."manifestDigest"
                   OR NOT EXISTS (SELECT 1 FROM present p WHERE p.digest = r."manifestDigest")))`,
        repositoryId,
        number,
        changes.replaceTags === true,
      );
      // A tag kept with the same digest is still open; every other given tag opens a row.
      const openedTags = await tx.$executeRawUnsafe(
        `INSERT INTO "RepositoryTag" ("repositoryId", name, "manifestDigest", "versionAdded")
         SELECT $1::uuid, t.name, t.digest, $2::int FROM staged_tag t
          WHERE t.digest IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM "RepositoryTag" r WHERE ${open('r')} AND r.name = t.name AND r."manifestDigest" = t.digest)`,
        repositoryId,
        number,
      );
      const removedManifests = await tx.$executeRawUnsafe(
        `UPDATE "RepositoryManifest" m SET "versionRemoved" = $2::int
          WHERE ${open('m')} AND m."manifestDigest" IN (SELECT digest FROM staged_manifest WHERE NOT wanted)`,
        repositoryId,
        number,
      );
      const addedManifests = await tx.$executeRawUnsafe(
        `INSERT INTO "RepositoryManifest" ("repositoryId", "manifestDigest", "versionAdded")
         SELECT $1::uuid, s.digest, $2::int FROM staged_manifest s
          WHERE s.wanted AND NOT EXISTS (SELECT 1 FROM "RepositoryManifest" m WHERE ${open('m')} AND m."manifestDigest" = s.digest)`,
        repositoryId,
        number,
      );
      if (closedTags + openedTags + removedManifests + addedManifests === 0) return null;

      const version = await tx.repositoryVersion.create({
        data: { repositoryId, number, baseVersion: repo.latestVersion },
      });
      await tx.repository.update({ where: { id: repositoryId }, data: { latestVersion: number } });
      const pruned = repo.retainVersions ? await applyRetention(tx, repositoryId, repo.retainVersions) : [];
      return {
        version,
        added: { manifests: addedManifests, tags: openedTags },
        removed: { manifests: removedManifests, tags: closedTags },
        pruned,
      };
    },
    { timeout: 120_000, maxWait: 30_000 },
  );
}

/**
 * Stages manifest digests, canonical, in `staged_manifest` (dropped at the end of
 * the transaction): wanted for those to add, not for those to remove. A digest
 * both added and removed stays: adds go first, and a remove does not override them.
 */
async function stageManifests(tx: Tx, add: Iterable<string>, remove: Iterable<string>): Promise<void> {
  await tx.$executeRawUnsafe(`CREATE TEMP TABLE staged_manifest (digest text PRIMARY KEY, wanted boolean NOT NULL) ON COMMIT DROP`);
  for (const [digests, wanted] of [
    [add, true],
    [remove, false],
  ] as const) {
    for (const chunk of chunked(digests, CHUNK)) {
      await tx.$executeRawUnsafe(
        `INSERT INTO staged_manifest (digest, wanted) SELECT ${CANONICAL}, $2::boolean FROM unnest($1::text[]) AS u(digest) ${ALIASED}
         ON CONFLICT (digest) DO NOTHING`,
        chunk,
        wanted,
      );
    }
  }
}

/**
 * Stages tags in `staged_tag` (dropped at the end of the transaction): name →
 * canonical digest for those to add, a null digest for those only to remove.
 * A name given twice takes its last digest, so its last entry is the one that
 * counts: `seq` orders names by it, and a refusal names the first tag at fault.
 */
async function stageTags(tx: Tx, add: Iterable<readonly [string, string]>, remove: Iterable<string>): Promise<void> {
  await tx.$executeRawUnsafe(`CREATE TEMP TABLE staged_tag (name text PRIMARY KEY, digest text, seq bigint NOT NULL) ON COMMIT DROP`);
  let seq = 0;
  for (const chunk of chunked(add, CHUNK)) {
    // One statement may not update a row twice: a name repeated within the chunk is merged here, across chunks by the conflict.
    // Deleting before setting moves a repeated name to the place of its last entry.
    const tags = new Map<string, string>();
    for (const [name, digest] of chunk) {
      tags.delete(name);
      tags.set(name, digest);
    }
    await tx.$executeRawUnsafe(
      `INSERT INTO staged_tag (name, digest, seq)
       SELECT u.name, ${CANONICAL}, $3::bigint + u.i FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u(name, digest, i) ${ALIASED}
       ON CONFLICT (name) DO UPDATE SET digest = EXCLUDED.digest, seq = EXCLUDED.seq`,
      [...tags.keys()],
      [...tags.values()],
      seq,
    );
    seq += tags.size;
  }
  // Adding wins over removing: a name both added and removed keeps its digest.
  for (const names of chunked(remove, CHUNK)) {
    await tx.$executeRawUnsafe(
      `INSERT INTO staged_tag (name, digest, seq) SELECT name, NULL, 0 FROM unnest($1::text[]) AS u(name) ON CONFLICT (name) DO NOTHING`,
      names,
    );
  }
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

/**
 * Deletes membership rows no remaining version can see (after retention or a
 * version's deletion); rows of surviving versions are untouched. Open rows
 * (versionRemoved null) always reach the latest version, which stays.
 */
export async function pruneMembership(tx: Tx, repositoryId: string): Promise<void> {
  // Table names come from this fixed list, never from input.
  for (const table of ['RepositoryManifest', 'RepositoryTag'] as const) {
    await tx.$executeRaw`
      DELETE FROM ${Prisma.raw(`"${table}"`)} r WHERE r."repositoryId" = ${repositoryId}::uuid AND r."versionRemoved" IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM "RepositoryVersion" v WHERE v."repositoryId" = r."repositoryId" AND ${inVersionSql('r', Prisma.sql`v.number`)})`;
  }
}
