import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTestDatabase, createTestRedisPrefix, freePort, TEST_REDIS_URL, type TestDatabase } from '@cistern/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProcess, waitForReady } from './processes.ts';

let dataDir: string;
let db: TestDatabase;
const redis = createTestRedisPrefix();
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'cistern-start-'));
  db = await createTestDatabase();
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
  await db.drop();
  await redis.cleanup();
});

/** The log line with this message, parsed. */
const NO_TOKEN = 'no API token exists and CISTERN_ADMIN_TOKEN is unset: every /api/v1 call answers 401; restart with CISTERN_ADMIN_TOKEN set (32+ characters)';

function logLine(output: string, msg: string): Record<string, unknown> | undefined {
  const line = output.split('\n').find((l) => l.includes(`"msg":"${msg}"`));
  return line === undefined ? undefined : (JSON.parse(line) as Record<string, unknown>);
}

async function ports() {
  return { API_PORT: String(await freePort()), REGISTRY_PORT: String(await freePort()), WORKER_PORT: String(await freePort()) };
}

async function tableCount(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>("SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'");
    return rows[0]?.n ?? -1;
  } finally {
    await client.end();
  }
}

describe('npm start (all in one)', () => {
  it('brings up API, worker and registry on the embedded database and stops cleanly on SIGTERM', async () => {
    // REDIS_URL unset and a Redis already answering at the default address: it is used, and the log says which.
    const shared = new URL(TEST_REDIS_URL);
    const env = { DATA_DIR: dataDir, EMBEDDED_REDIS_PORT: shared.port || '6379', REDIS_PREFIX: redis.prefix, ...(await ports()) };
    const run = startProcess('scripts/start-all.ts', env);
    try {
      for (const port of [env.API_PORT, env.REGISTRY_PORT, env.WORKER_PORT]) await waitForReady(`http://127.0.0.1:${port}/readyz`, { of: run });
      const body = (await (await fetch(`http://127.0.0.1:${env.REGISTRY_PORT}/readyz`)).json()) as { checks: Record<string, string> };
      expect(body.checks).toEqual({ database: 'ok', redis: 'ok', storage: 'ok' });
      expect(run.output()).toContain('"database":"embedded"');
      expect(logLine(run.output(), 'REDIS_URL is unset: using the Redis already answering at the default address, not an embedded one')?.redis).toEqual({
        url: `redis://${shared.hostname}:${env.EMBEDDED_REDIS_PORT}`,
        database: 0,
        prefix: redis.prefix,
      });
      expect(run.output()).not.toContain('embedded redis-server');
      // A first start without a token says how to get one (every API call would answer 401).
      expect(logLine(run.output(), NO_TOKEN)?.level).toBe(40);
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
      expect(run.output()).toContain('"msg":"stopped"');
    } finally {
      run.child.kill('SIGKILL');
    }
  }, 90_000);

  it('with REDIS_URL set but unreachable, says that only an unset REDIS_URL brings the embedded Redis', async () => {
    const run = startProcess('scripts/start-all.ts', { DATA_DIR: dataDir, REDIS_URL: 'redis://:s3cret-pw@127.0.0.1:1', ...(await ports()) });
    expect(await run.exited).toBe(1);
    const lines = run.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^cistern start: cannot reach Redis at 127\.0\.0\.1:1: .*; REDIS_URL is set, so no embedded Redis is started \(`npm start` starts one only when REDIS_URL is unset\)$/,
    );
    expect(run.output()).not.toContain('s3cret-pw');
  });
});

describe('separate start commands', () => {
  it('serve against PostgreSQL and Redis', async () => {
    const env = { DATA_DIR: dataDir, DATABASE_URL: db.url, REDIS_URL: `${TEST_REDIS_URL}/0`, REDIS_PREFIX: redis.prefix, ...(await ports()) };
    const runs = [startProcess('apps/api/src/main.ts', env), startProcess('apps/worker/src/main.ts', env), startProcess('apps/registry/src/main.ts', env)];
    try {
      for (const [i, port] of [env.API_PORT, env.WORKER_PORT, env.REGISTRY_PORT].entries())
        await waitForReady(`http://127.0.0.1:${port}/readyz`, { of: runs[i] });
      for (const run of runs)
        expect(logLine(run.output(), 'using the Redis at REDIS_URL')?.redis).toEqual({ url: TEST_REDIS_URL, database: 0, prefix: redis.prefix });
      for (const run of runs) run.child.kill('SIGTERM');
      expect(await Promise.all(runs.map((r) => r.exited))).toEqual([0, 0, 0]);
    } finally {
      for (const run of runs) run.child.kill('SIGKILL');
    }
  }, 90_000);

  it('refuse the embedded database with a clear message', async () => {
    const run = startProcess('apps/api/src/main.ts', { DATA_DIR: dataDir, REDIS_URL: TEST_REDIS_URL, ...(await ports()) });
    expect(await run.exited).toBe(1);
    expect(run.output().trim()).toMatch(/^cistern api: DATABASE_URL is not set: the embedded database serves only the all-in-one `npm start`/);
  });
});

describe('bad settings stop the process with one clear line and create nothing', () => {
  let empty: TestDatabase;
  let badDataDir: string;
  beforeAll(async () => {
    empty = await createTestDatabase();
    badDataDir = await mkdtemp(path.join(tmpdir(), 'cistern-bad-'));
  });
  afterAll(async () => {
    await empty.drop();
    await rm(badDataDir, { recursive: true, force: true });
  });

  const cases: [string, () => Promise<Record<string, string>>, RegExp][] = [
    ['a malformed variable', async () => ({ API_PORT: 'eighty' }), /^cistern api: invalid configuration: API_PORT: /],
    [
      'a DATABASE_URL nothing answers at',
      async () => ({ DATABASE_URL: 'postgresql://cistern:s3cret-pw@127.0.0.1:1/cistern' }),
      /^cistern api: cannot use PostgreSQL at 127\.0\.0\.1:1\/cistern: /,
    ],
    [
      'Redis down',
      async () => ({ DATABASE_URL: empty.url, REDIS_URL: 'redis://:s3cret-pw@127.0.0.1:1' }),
      /^cistern api: cannot reach Redis at 127\.0\.0\.1:1: /,
    ],
    [
      'a Redis database the server does not have',
      async () => ({ DATABASE_URL: empty.url, REDIS_URL: `${TEST_REDIS_URL}/99` }),
      /^cistern api: Redis at \S+ has no database 99, which REDIS_URL names \(/,
    ],
    [
      'an unwritable storage directory',
      async () => {
        const file = path.join(badDataDir, 'not-a-directory');
        await writeFile(file, 'x');
        return { DATABASE_URL: empty.url, STORAGE_DIR: path.join(file, 'storage') };
      },
      /^cistern api: .*not-a-directory\/storage/,
    ],
  ];

  it.each(cases)('%s', async (_name, env, message) => {
    const run = startProcess('apps/api/src/main.ts', { DATA_DIR: badDataDir, REDIS_URL: TEST_REDIS_URL, ...(await ports()), ...(await env()) });
    expect(await run.exited).toBe(1);
    const lines = run.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    expect(run.output()).not.toContain('s3cret-pw');
    expect(await tableCount(empty.url)).toBe(0);
    expect(existsSync(path.join(badDataDir, 'secret.key'))).toBe(false);
  });
});
