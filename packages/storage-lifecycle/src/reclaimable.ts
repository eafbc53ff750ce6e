import { inVersionSql, Prisma } from '@cistern/db';

// The rule of what a reclaim may drop the file of, written once for its
// candidates and its rechecks under lock. Each clause is a fresh read of the
// tables, so a recheck sees every version, pin and touch committed before it.

/** What one reclaim judges by: fixed for the whole run. */
export interface ReclaimScope {
  /** The repositories whose old versions give up their blobs' files. */
  repositoryIds: string[];
  /** Each listed repository keeps its newest this many versions (≥ 1). */
  keepVersions: number;
  /** Rows touched (lastUsedAt) at or after it are protected (see `protectionCutoff`). */
  cutoff: Prisma.Sql;
}

/**
 * A version (alias `v`) of a listed repository that keeps its content: one of
 * the repository's newest `keepVersions`, or pinned by a distribution.
 */
const keptVersion = (v: string, scope: ReclaimScope): Prisma.Sql => {
  const r = Prisma.raw(v);
  return Prisma.sql`(EXISTS (SELECT 1 FROM "Distribution" d WHERE d."repositoryVersionId" = ${r}."id")
    OR ${r}."number" >= COALESCE((SELECT nv."number" FROM "RepositoryVersion" nv WHERE nv."repositoryId" = ${r}."repositoryId"
      ORDER BY nv."number" DESC OFFSET ${scope.keepVersions - 1}::int LIMIT 1), -1))`;
};

/** A membership row (alias `rm`) of a listed repository present in one of its versions that `kept` says of (alias `v`). */
const inListedVersion = (rm: string, scope: ReclaimScope, kept: boolean): Prisma.Sql =>
  Prisma.sql`${Prisma.raw(rm)}."repositoryId" = ANY(${scope.repositoryIds}::uuid[]) AND EXISTS (
    SELECT 1 FROM "RepositoryVersion" v WHERE v."repositoryId" = ${Prisma.raw(rm)}."repositoryId" AND ${inVersionSql(rm, Prisma.sql`v."number"`)}
      AND ${kept ? Prisma.empty : Prisma.sql`NOT`} ${keptVersion('v', scope)})`;

/**
 * A blob (alias `b`) whose file a reclaim may drop, stored or not (the caller
 * says which it wants):
 *
 * - untouched since the cutoff, and fetchable again: a remote artifact without
 *   `urls` (pushed blobs have none, foreign layers are never downloaded);
 * - referenced by a manifest present in a version of a listed repository that
 *   is not kept;
 * - referenced by no manifest that stays: none in a kept version of a listed
 *   repository, none in any version of a repository not listed, and none
 *   touched since the cutoff (a sync reusing a stored manifest touches the
 *   manifest, not its blobs, and then relies on their files).
 */
export const reclaimableBlob = (b: string, scope: ReclaimScope): Prisma.Sql => {
  const blob = Prisma.raw(b);
  return Prisma.sql`${blob}."lastUsedAt" < ${scope.cutoff}
    AND EXISTS (SELECT 1 FROM "RemoteArtifact" ra WHERE ra."blobDigest" = ${blob}."digest" AND cardinality(ra."urls") = 0)
    AND EXISTS (
      SELECT 1 FROM "ManifestBlob" mb JOIN "RepositoryManifest" rm ON rm."manifestDigest" = mb."manifestDigest"
      WHERE mb."blobDigest" = ${blob}."digest" AND ${inListedVersion('rm', scope, false)})
    AND NOT EXISTS (
      SELECT 1 FROM "ManifestBlob" mb JOIN "Manifest" m ON m."digest" = mb."manifestDigest"
      WHERE mb."blobDigest" = ${blob}."digest" AND (
        m."lastUsedAt" >= ${scope.cutoff}
        OR EXISTS (SELECT 1 FROM "RepositoryManifest" rm WHERE rm."manifestDigest" = m."digest" AND rm."repositoryId" <> ALL(${scope.repositoryIds}::uuid[]))
        OR EXISTS (SELECT 1 FROM "RepositoryManifest" rm WHERE rm."manifestDigest" = m."digest" AND ${inListedVersion('rm', scope, true)})))`;
};
