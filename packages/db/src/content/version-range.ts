import { Prisma } from '../generated/client.ts';

/*
 * Version membership, defined once. A membership row (RepositoryManifest,
 * RepositoryTag) covers the versions [versionAdded, versionRemoved): it is
 * present in version N when
 *
 *   versionAdded <= N AND (versionRemoved IS NULL OR versionRemoved > N)
 *
 * `inVersion` says it to Prisma, `inVersionSql` to raw SQL; every query that
 * asks "what is in version N" uses one of the two.
 */

/** Membership rows present in version `n`, as a Prisma `where` on RepositoryManifest or RepositoryTag. */
export function inVersion(n: number) {
  return {
    versionAdded: { lte: n },
    OR: [{ versionRemoved: null }, { versionRemoved: { gt: n } }],
  };
}

const ALIAS = /^[a-z_][a-z0-9_]*$/;

/**
 * Membership rows present in version `n`, as a SQL condition on the
 * membership row aliased `row` (e.g. `rm` in `FROM "RepositoryManifest" rm`).
 * `n` is a version number (bound as a parameter) or a SQL expression such as
 * Prisma.sql`v.number`. Throws a TypeError for an alias that is not a plain
 * lowercase SQL identifier: aliases come from code, never from input.
 */
export function inVersionSql(row: string, n: number | Prisma.Sql): Prisma.Sql {
  if (!ALIAS.test(row)) throw new TypeError(`not a plain SQL alias: ${row}`);
  const r = Prisma.raw(row);
  const at = typeof n === 'number' ? Prisma.sql`${n}::int` : n;
  return Prisma.sql`${r}."versionAdded" <= ${at} AND (${r}."versionRemoved" IS NULL OR ${r}."versionRemoved" > ${at})`;
}
