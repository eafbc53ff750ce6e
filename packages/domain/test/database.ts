import { openDatabase, type Database } from '@cistern/db';
import { createTestDatabase } from '@cistern/testkit';

/** A migrated PostgreSQL database of this test file's own, and how to drop it. */
export async function testDatabase(): Promise<{ db: Database; cleanup(): Promise<void> }> {
  const tdb = await createTestDatabase();
  const db = await openDatabase({ databaseUrl: tdb.url, dataDir: '/nonexistent', allowEmbedded: false });
  return {
    db,
    cleanup: async () => {
      await db.close();
      await tdb.drop();
    },
  };
}
