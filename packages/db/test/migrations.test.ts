import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { createTestDatabase, type TestDatabase } from '@cistern/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMigrations, MigrationError } from '../src/migrate.ts';
import { readMigrations } from '../src/migrations.ts';
import { openDatabase } from '../src/database.ts';
import { pgliteSession, pgSession, type SqlSession } from '../src/sql-session.ts';
import { introspect } from './schema-introspection.ts';
import { expectedFromSchema } from './schema-expectation.ts';

interface Backend {
  name: string;
  open(): Promise<{ session: SqlSession; close(): Promise<void> }>;
  cleanup(): Promise<void>;
}

function postgresBackend(): Backend {
  let db: TestDatabase | undefined;
  return {
    name: 'PostgreSQL',
    async open() {
      db ??= await createTestDatabase();
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      return { session: pgSession(client), close: () => client.end() };
    },
    cleanup: async () => db?.drop(),
  };
}

function pgliteBackend(): Backend {
  let dir: string | undefined;
  return {
    name: 'PGlite',
    async open() {
      dir ??= await mkdtemp(path.join(tmpdir(), 'cistern-pglite-'));
      const db = await PGlite.create(dir);
      return { session: pgliteSession(db), close: () => db.close() };
    },
    cleanup: async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    },
  };
}

describe.each([postgresBackend(), pgliteBackend()])('migrations on $name', (backend) => {
  afterAll(() => backend.cleanup());

  it('apply to a fresh database and record themselves as prisma migrate deploy does', async () => {
    const migrations = await readMigrations();
    const { session, close } = await backend.open();
    try {
      const result = await applyMigrations(session, migrations);
      expect(result.applied).toEqual(migrations.map((m) => m.name));
      const rows = await session.query<{
        migration_name: string;
        checksum: string;
        finished_at: Date | null;
        applied_steps_count: number;
        rolled_back_at: Date | null;
      }>('SELECT migration_name, checksum, finished_at, applied_steps_count, rolled_back_at FROM "_prisma_migrations" ORDER BY migration_name');
      expect(rows.map((r) => [r.migration_name, r.checksum, r.applied_steps_count, r.rolled_back_at])).toEqual(
        migrations.map((m) => [m.name, m.checksum, 1, null]),
      );
      expect(rows.every((r) => r.finished_at instanceof Date)).toBe(true);
      expect(migrations[0]?.checksum).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      await close();
    }
  });

  it('produce exactly the tables, columns, indexes, foreign keys and enums the schema declares', async () => {
    const { session, close } = await backend.open();
    try {
      const actual = await introspect(session);
      const expected = await expectedFromSchema();
      expect([...actual.tables.keys()].sort()).toEqual([...expected.tables.keys()].sort());
      for (const [table, columns] of expected.tables) {
        expect(Object.fromEntries(actual.tables.get(table) ?? []), table).toEqual(Object.fromEntries(columns));
      }
      expect([...actual.indexes].sort()).toEqual([...expected.indexes].sort());
      expect([...actual.foreignKeys].sort()).toEqual([...expected.foreignKeys].sort());
      expect(Object.fromEntries(actual.enums)).toEqual(Object.fromEntries(expected.enums));
    } finally {
      await close();
    }
  });

  it('re-run as a no-op', async () => {
    const { session, close } = await backend.open();
    try {
      const result = await applyMigrations(session, await readMigrations());
      expect(result.applied).toEqual([]);
      expect(result.alreadyApplied.length).toBeGreaterThan(0);
      const [count] = await session.query<{ n: number }>('SELECT count(*)::int AS n FROM "_prisma_migrations"');
      expect(count?.n).toBe(result.alreadyApplied.length);
    } finally {
      await close();
    }
  });

  it('refuse a migration that changed after it was applied', async () => {
    const { session, close } = await backend.open();
    try {
      const [first, ...rest] = await readMigrations();
      if (!first) throw new Error('no migrations');
      const edited = { ...first, sql: first.sql + '\n-- edited', checksum: 'f'.repeat(64) };
      await expect(applyMigrations(session, [edited, ...rest])).rejects.toThrow(/modified after it was applied/);
    } finally {
      await close();
    }
  });
});

describe('migrations on PostgreSQL, concurrently and on failure', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  it('let two processes starting together migrate once', async () => {
    const open = () => openDatabase({ databaseUrl: db.url, dataDir: '/nonexistent', allowEmbedded: false });
    const [a, b] = await Promise.all([open(), open()]);
    try {
      const applied = [a.migrations.applied, b.migrations.applied].sort((x, y) => x.length - y.length);
      expect(applied[0]).toEqual([]);
      expect(applied[1]?.length).toBeGreaterThan(0);
      await a.ping();
      expect(await a.prisma.remote.count()).toBe(0);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('roll back a failing migration whole, leaving nothing half-created', async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const session = pgSession(client);
      const bad = { name: '99990101000000_broken', checksum: 'a'.repeat(64), sql: 'CREATE TABLE "Half" (id int); SELECT * FROM no_such_table;' };
      const error = await applyMigrations(session, [...(await readMigrations()), bad]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MigrationError);
      expect((error as Error).message).toMatch(/99990101000000_broken failed: .*no_such_table/);
      expect(await session.query("SELECT 1 FROM information_schema.tables WHERE table_name = 'Half'")).toEqual([]);
      expect(await session.query(`SELECT 1 FROM "_prisma_migrations" WHERE migration_name = '${bad.name}'`)).toEqual([]);
    } finally {
      await client.end();
    }
  });
});
