import { Prisma, type PrismaClient } from '../generated/client.ts';
import { inVersionSql } from './version-range.ts';

/*
 * The difference between two versions of one repository, in SQL. Only rows
 * with a range boundary between the two versions can differ: a row present
 * in the higher version and not in the lower was added after the lower, a row
 * present in the lower and not in the higher was removed by the higher. So
 * each side is the rows present in its version whose range starts after the
 * lower or ends by the higher ("candidates", found through the versionAdded
 * and versionRemoved indexes), and the cost follows the size of the change,
 * not of the versions. Values, not rows, are compared: a tag removed and
 * re-added with the same target between the two versions is no change.
 */

/** Two versions of one repository: `version` is compared against `base` (either may be the higher). */
export interface VersionPair {
  repositoryId: string;
  version: number;
  base: number;
}

/** A tag added (in `version`, not in `base`), removed (the other way) or moved (in both, to another manifest). */
export interface TagDiffRow {
  name: string;
  change: 'added' | 'removed' | 'moved';
  /** The manifest the tag points at in `version`; for a removed tag, the one it pointed at in `base`. */
  digest: string;
  /** For a moved tag, the manifest it pointed at in `base`. */
  from: string | null;
}

/** A manifest in one of the two versions only. */
export interface ManifestDiffRow {
  digest: string;
  change: 'added' | 'removed';
  mediaType: string;
  artifactType: string | null;
  classification: string;
  size: number;
}

/** A blob (derived from manifests) in one of the two versions only. */
export interface BlobDiffRow {
  digest: string;
  change: 'added' | 'removed';
  size: number;
}

/** How many, and how many bytes, one kind of change covers. */
export interface ChangeTotal {
  count: number;
  bytes: number;
}

/** Counts (and bytes, where content has a size) of every kind of change. */
export interface DiffTotals {
  tags: { added: number; removed: number; moved: number };
  manifests: { added: ChangeTotal; removed: ChangeTotal };
  blobs: { added: ChangeTotal; removed: ChangeTotal };
}

/** A page: rows whose key sorts after `after` (every row when null), at most `limit` of them, ordered by key. */
export interface KeysetPage {
  after: string | null;
  limit: number;
}

const after = (column: Prisma.Sql, page: KeysetPage | null) => (page?.after == null ? Prisma.empty : Prisma.sql`AND ${column} > ${page.after}`);
/** The first rows of a page, by the first column; every row, in any order, for totals. */
const firstRows = (page: KeysetPage | null) => (page === null ? Prisma.empty : Prisma.sql`ORDER BY 1 LIMIT ${page.limit}`);

/** The candidate rows (see above) of `table` aliased `r` in version `n` of the pair. */
function candidates(table: 'RepositoryTag' | 'RepositoryManifest', pair: VersionPair, n: number, columns: Prisma.Sql, extra: Prisma.Sql): Prisma.Sql {
  const lo = Math.min(pair.version, pair.base);
  const hi = Math.max(pair.version, pair.base);
  // The table name comes from the fixed union above, never from input.
  return Prisma.sql`SELECT ${columns} FROM ${Prisma.raw(`"${table}"`)} r
    WHERE r."repositoryId" = ${pair.repositoryId}::uuid AND ${inVersionSql('r', n)}
      AND (r."versionAdded" > ${lo}::int OR r."versionRemoved" <= ${hi}::int) ${extra}`;
}

/** Tags whose target differs: n side (`version`) full-joined with o side (`base`) by name. */
function tagChanges(pair: VersionPair, page: KeysetPage | null): Prisma.Sql {
  const side = (n: number) => candidates('RepositoryTag', pair, n, Prisma.sql`r.name, r."manifestDigest" AS digest`, after(Prisma.sql`r.name`, page));
  return Prisma.sql`SELECT COALESCE(n.name, o.name) AS name, n.digest AS now, o.digest AS was
    FROM (${side(pair.version)}) n FULL JOIN (${side(pair.base)}) o ON o.name = n.name
    WHERE n.digest IS DISTINCT FROM o.digest`;
}

/** Tags added, removed and moved from `base` to `version`, ordered by name. */
export async function tagDiff(prisma: PrismaClient, pair: VersionPair, page: KeysetPage): Promise<TagDiffRow[]> {
  const rows = await prisma.$queryRaw<{ name: string; now: string | null; was: string | null }[]>`
    ${tagChanges(pair, page)} ${firstRows(page)}`;
  return rows.map(({ name, now, was }) => {
    if (now === null) return { name, change: 'removed', digest: was as string, from: null };
    return was === null ? { name, change: 'added', digest: now, from: null } : { name, change: 'moved', digest: now, from: was };
  });
}

/** Manifests of one version only: the digest and whether `version` (added) or `base` (removed) holds it. */
function manifestChanges(pair: VersionPair, page: KeysetPage | null): Prisma.Sql {
  const side = (n: number) => candidates('RepositoryManifest', pair, n, Prisma.sql`r."manifestDigest" AS digest`, after(Prisma.sql`r."manifestDigest"`, page));
  return Prisma.sql`SELECT COALESCE(n.digest, o.digest) AS digest, n.digest IS NOT NULL AS added
    FROM (${side(pair.version)}) n FULL JOIN (${side(pair.base)}) o ON o.digest = n.digest
    WHERE n.digest IS NULL OR o.digest IS NULL`;
}

/** Manifests added and removed from `base` to `version`, ordered by digest. */
export async function manifestDiff(prisma: PrismaClient, pair: VersionPair, page: KeysetPage): Promise<ManifestDiffRow[]> {
  const rows = await prisma.$queryRaw<(Omit<ManifestDiffRow, 'change' | 'size'> & { added: boolean; size: bigint })[]>`
    SELECT c.digest, c.added, m."mediaType", m."artifactType", m.classification, m.size
      FROM (${manifestChanges(pair, page)} ${firstRows(page)}) c JOIN "Manifest" m ON m.digest = c.digest
     ORDER BY c.digest`;
  return rows.map(({ added, size, ...row }) => ({ ...row, change: added ? 'added' : 'removed', size: Number(size) }));
}

/**
 * Blobs of manifests of `from`'s candidates that no manifest of version `not`
 * references: a blob only one side has belongs to a manifest only that side has.
 * Each blob is checked once, however many candidates share it (a base layer),
 * and a page, in order, stops checking once it is full (OFFSET 0 keeps the check
 * per blob: as an anti-join it would read every blob of the other version on each page).
 */
function blobsOnlyIn(pair: VersionPair, from: number, not: number, page: KeysetPage | null): Prisma.Sql {
  return Prisma.sql`SELECT d.digest FROM (
      SELECT DISTINCT mb."blobDigest" AS digest
        FROM (${candidates('RepositoryManifest', pair, from, Prisma.sql`r."manifestDigest"`, Prisma.empty)}) c
        JOIN "ManifestBlob" mb ON mb."manifestDigest" = c."manifestDigest"
       WHERE TRUE ${after(Prisma.sql`mb."blobDigest"`, page)} ${page === null ? Prisma.empty : Prisma.sql`ORDER BY 1`}) d
   WHERE NOT EXISTS (SELECT 1 FROM "ManifestBlob" other JOIN "RepositoryManifest" rm
                       ON rm."manifestDigest" = other."manifestDigest" AND rm."repositoryId" = ${pair.repositoryId}::uuid
                      WHERE other."blobDigest" = d.digest AND ${inVersionSql('rm', not)} OFFSET 0)`;
}

/** Blobs of one version only, with whether `version` (added) or `base` (removed) holds them. */
function blobChanges(pair: VersionPair, page: KeysetPage | null): Prisma.Sql {
  const side = (added: 'TRUE' | 'FALSE', from: number, not: number) =>
    Prisma.sql`SELECT s.digest, ${Prisma.raw(added)} AS added FROM (${blobsOnlyIn(pair, from, not, page)} ${firstRows(page)}) s`;
  return Prisma.sql`${side('TRUE', pair.version, pair.base)} UNION ALL ${side('FALSE', pair.base, pair.version)}`;
}

/** Blobs added and removed from `base` to `version`, ordered by digest. */
export async function blobDiff(prisma: PrismaClient, pair: VersionPair, page: KeysetPage): Promise<BlobDiffRow[]> {
  const rows = await prisma.$queryRaw<{ digest: string; added: boolean; size: bigint }[]>`
    SELECT c.digest, c.added, b.size FROM (${blobChanges(pair, page)}) c JOIN "Blob" b ON b.digest = c.digest
     ORDER BY c.digest LIMIT ${page.limit}`;
  return rows.map(({ digest, added, size }) => ({ digest, change: added ? 'added' : 'removed', size: Number(size) }));
}

/** The counts and bytes of every change from `base` to `version`, each kind in one aggregate query. */
export async function diffTotals(prisma: PrismaClient, pair: VersionPair): Promise<DiffTotals> {
  type Sized = { added: bigint; removed: bigint; addedBytes: bigint | null; removedBytes: bigint | null }[];
  const sized = (changes: Prisma.Sql, table: 'Manifest' | 'Blob') => prisma.$queryRaw<Sized>`
    SELECT count(*) FILTER (WHERE c.added) AS added, count(*) FILTER (WHERE NOT c.added) AS removed,
           sum(x.size) FILTER (WHERE c.added)::bigint AS "addedBytes", sum(x.size) FILTER (WHERE NOT c.added)::bigint AS "removedBytes"
      FROM (${changes}) c JOIN ${Prisma.raw(`"${table}"`)} x ON x.digest = c.digest`;
  const [[tags], [manifests], [blobs]] = await Promise.all([
    prisma.$queryRaw<{ added: bigint; removed: bigint; moved: bigint }[]>`
      SELECT count(*) FILTER (WHERE was IS NULL) AS added, count(*) FILTER (WHERE now IS NULL) AS removed,
             count(*) FILTER (WHERE now IS NOT NULL AND was IS NOT NULL) AS moved
        FROM (${tagChanges(pair, null)}) t`,
    sized(manifestChanges(pair, null), 'Manifest'),
    sized(blobChanges(pair, null), 'Blob'),
  ]);
  const total = (row: Sized[number] | undefined) => ({
    added: { count: Number(row?.added ?? 0), bytes: Number(row?.addedBytes ?? 0) },
    removed: { count: Number(row?.removed ?? 0), bytes: Number(row?.removedBytes ?? 0) },
  });
  return {
    tags: { added: Number(tags?.added ?? 0), removed: Number(tags?.removed ?? 0), moved: Number(tags?.moved ?? 0) },
    manifests: total(manifests),
    blobs: total(blobs),
  };
}
