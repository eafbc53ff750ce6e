export { openDatabase, describeDatabaseUrl, DatabaseError, type Database, type OpenDatabaseOptions } from './database.ts';
export { applyMigrations, MigrationError, type MigrationResult } from './migrate.ts';
export { readMigrations, defaultMigrationsDir, type Migration } from './migrations.ts';
export { pgSession, pgliteSession, type SqlSession } from './sql-session.ts';
export * from './generated/client.ts';
export {
  writeRepositoryVersion,
  applyRetention,
  pruneMembership,
  VersionWriteError,
  type VersionChanges,
  type WrittenVersion,
} from './content/repository-version-writer.ts';
export { saveManifest, saveManifests, type ManifestRecord, type BlobReference, type IndexEntry } from './content/manifest-records.ts';
export { isAliasDigest, manifestKnownBy, resolveAliases } from './content/manifest-aliases.ts';
export { versionManifests, versionTags } from './content/version-content.ts';
export { manifestClosure } from './content/manifest-closure.ts';
export { chunked } from './chunked.ts';
export { createRepository } from './content/repositories.ts';
export { inVersion, inVersionSql } from './content/version-range.ts';
export { ContentHolds, HOLD_TTL_MS, type ContentHold } from './content/content-holds.ts';
export { touchBlob, touchBlobs, touchManifests, type TouchedManifest } from './content/content-touch.ts';
export {
  blobDiff,
  diffTotals,
  manifestDiff,
  tagDiff,
  type BlobDiffRow,
  type DiffTotals,
  type ManifestDiffRow,
  type TagDiffRow,
  type VersionPair,
} from './content/version-diff.ts';
