import path from 'node:path';
import { DependencyWatch } from '@cistern/dependency-watch';
import { CisternError, isCisternError, type CisternErrorOptions } from '@cistern/errors';
import type { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import type { Logger } from 'pino';
import { PrismaClient } from './generated/client.ts';
import { applyMigrations, type MigrationResult } from './migrate.ts';
import { readMigrations } from './migrations.ts';
import { pgliteSession, pgSession } from './sql-session.ts';
import { watchedAdapter } from './watched-adapter.ts';

export interface Database {
  prisma: PrismaClient;
  /** `embedded` is PGlite under the data directory: one process owns it. */
  kind: 'postgres' | 'embedded';
  migrations: MigrationResult;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  databaseUrl: string | undefined;
  dataDir: string;
  /** Only the all-in-one start may fall back to PGlite. */
  allowEmbedded: boolean;
  /**
   * Where a PostgreSQL outage is said, once when it starts and once when it
   * ends (a DependencyWatch over every statement). Without it, statements
   * failing for an outage only fail.
   */
  logger?: Logger;
}

/** The database cannot be reached or opened; the message names where, never the credentials. */
export class DatabaseError extends CisternError<'DATABASE_UNAVAILABLE'> {
  override readonly name = 'DatabaseError';

  constructor(message: string, options?: CisternErrorOptions) {
    super('DATABASE_UNAVAILABLE', message, options);
  }
}

/** host:port/database, never the credentials, for error lines. */
export function describeDatabaseUrl(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  return `${url.hostname}:${url.port || '5432'}${url.pathname}`;
}

/** Opens the database and brings its schema up to date before anything else touches it. */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options.logger);
  if (!options.allowEmbedded) {
    throw new DatabaseError(
      'DATABASE_URL is not set: the embedded database serves only the all-in-one `npm start` (one process owns it); set DATABASE_URL to run the apps separately',
    );
  }
  return openEmbedded(path.join(options.dataDir, 'pglite'));
}

async function openPostgres(databaseUrl: string, logger: Logger | undefined): Promise<Database> {
  const where = describeDatabaseUrl(databaseUrl);
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 10_000 });
  let migrations: MigrationResult;
  try {
    await client.connect();
    migrations = await applyMigrations(pgSession(client), await readMigrations());
  } catch (error) {
    if (isCisternError(error, 'MIGRATION_FAILED')) throw error;
    throw new DatabaseError(`cannot use PostgreSQL at ${where}: ${(error as Error).message}`, { cause: error });
  } finally {
    await client.end().catch(() => undefined);
  }
  const ping = async () => {
    await prisma.$queryRaw`SELECT 1`;
  };
  // Its recheck says "back" even when nothing else queries meanwhile: a pool only learns by being used.
  const watch = logger && new DependencyWatch({ logger, service: 'postgresql', where, recheck: ping });
  const adapter = new PrismaPg({ connectionString: databaseUrl });
  const prisma = new PrismaClient({ adapter: watch ? watchedAdapter(adapter, watch.connection()) : adapter });
  return {
    prisma,
    kind: 'postgres',
    migrations,
    ping,
    close: async () => {
      watch?.stop();
      await prisma.$disconnect();
    },
  };
}

async function openEmbedded(dir: string): Promise<Database> {
  // Loaded only here: PGlite's WASM costs ~50 MiB that processes on PostgreSQL should not carry.
  const [{ PGlite }, { PrismaPGlite }] = await Promise.all([import('@electric-sql/pglite'), import('pglite-prisma-adapter')]);
  let pglite: PGlite;
  try {
    pglite = await PGlite.create(dir);
  } catch (error) {
    throw new DatabaseError(`cannot open the embedded database at ${dir}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const migrations = await applyMigrations(pgliteSession(pglite), await readMigrations());
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(pglite) });
  return {
    prisma,
    kind: 'embedded',
    migrations,
    ping: async () => {
      await prisma.$queryRaw`SELECT 1`;
    },
    close: async () => {
      await prisma.$disconnect();
      await pglite.close();
    },
  };
}
