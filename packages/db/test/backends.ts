import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTestDatabase } from '@cistern/testkit';
import { openDatabase, type Database } from '../src/database.ts';

/** Both databases Cistern runs on, each opened fresh, for `describe.each`. */
export const backends: { name: string; open(): Promise<{ db: Database; cleanup(): Promise<void> }> }[] = [
  {
    name: 'PostgreSQL',
    open: async () => {
      const tdb = await createTestDatabase();
      const db = await openDatabase({ databaseUrl: tdb.url, dataDir: '/nonexistent', allowEmbedded: false });
      return {
        db,
        cleanup: async () => {
          await db.close();
          await tdb.drop();
        },
      };
    },
  },
  {
    name: 'PGlite',
    open: async () => {
      const dir = await mkdtemp(path.join(tmpdir(), 'cistern-db-'));
      const db = await openDatabase({ databaseUrl: undefined, dataDir: dir, allowEmbedded: true });
      return {
        db,
        cleanup: async () => {
          await db.close();
          await rm(dir, { recursive: true, force: true });
        },
      };
    },
  },
];
