export { openDatabase, describeDatabaseUrl, DatabaseError, type Database, type OpenDatabaseOptions } from './database.ts';
export { applyMigrations, MigrationError, type MigrationResult } from './migrate.ts';
export { readMigrations, defaultMigrationsDir, type Migration } from './migrations.ts';
export { pgSession, pgliteSession, type SqlSession } from './sql-session.ts';
export * from './generated/client.ts';
