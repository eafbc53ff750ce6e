import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** Where tests create their databases; CI and developer machines run PostgreSQL here (README.md, "Tests"; `.ci/run` starts it when it is down). */
export const TEST_POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  /** A DATABASE_URL for an empty database of its own. */
  url: string;
  drop(): Promise<void>;
}

/** One fresh database per test file, dropped afterwards, so files run in parallel. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `cistern_test_${randomBytes(6).toString('hex')}`;
  await withAdmin((client) => client.query(`CREATE DATABASE "${name}"`));
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      await withAdmin((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}

async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
