import { hostname } from 'node:os';
import { json, OCI_CONFIG, OCI_MANIFEST, TEST_REDIS_URL } from '@cistern/testkit';
import { createRedis } from '@cistern/queue';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSyncFixture, type SyncFixture } from './processes.ts';

// Two installations on one Redis database, told apart by REDIS_PREFIX only:
// each worker runs its own installation's tasks and never takes the other's
// jobs (a job of the other database names a task this one does not have).
const REPO = 'team/app';
const SYNCS = 4;

let installs: SyncFixture[] = [];

beforeAll(async () => {
  installs = [await startSyncFixture(), await startSyncFixture()];
  for (const { upstream } of installs) {
    const config = json({ architecture: 'amd64', os: 'linux' });
    const configDigest = upstream.addBlob(REPO, config);
    const manifest = { schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: OCI_CONFIG, digest: configDigest, size: config.length }, layers: [] };
    upstream.addManifest(REPO, json(manifest), OCI_MANIFEST, ['1.0']);
  }
}, 120_000);
afterAll(async () => {
  for (const install of installs) await install.stop();
});

async function workersOf(databaseUrl: string, ids: string[]): Promise<(string | null)[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ worker: string | null }>('SELECT worker FROM "Task" WHERE id = ANY($1::uuid[])', [ids]);
    return rows.map((r) => r.worker);
  } finally {
    await client.end();
  }
}

describe('two installations sharing one Redis database with different REDIS_PREFIX', () => {
  it('each worker runs exactly its own tasks, and each prefix holds only its own jobs', async () => {
    expect(installs[0]?.redisPrefix).not.toBe(installs[1]?.redisPrefix);
    const ids = await Promise.all(
      installs.map(async ({ cistern, upstream }) => {
        const started: string[] = [];
        for (let i = 0; i < SYNCS; i++) started.push(await cistern.sync({ url: upstream.url, upstreamName: REPO }));
        return started;
      }),
    );
    for (const [n, install] of installs.entries()) {
      const own = ids[n] ?? [];
      for (const id of own) {
        const task = await install.cistern.waitTask(id, (t) => ['completed', 'failed', 'canceled'].includes(t.state), 60_000);
        expect(task).toMatchObject({ state: 'completed', error: null });
      }
      const worker = `${hostname()}:${install.cistern.worker.child.pid}`;
      expect(await workersOf(install.databaseUrl, own)).toEqual(own.map(() => worker));
    }
    const redis = createRedis(TEST_REDIS_URL);
    try {
      for (const [n, install] of installs.entries()) {
        for (const [m, tasks] of ids.entries()) {
          for (const id of tasks) expect(await redis.exists(`${install.redisPrefix}:tasks:${id}`)).toBe(n === m ? 1 : 0);
        }
      }
    } finally {
      redis.disconnect();
    }
  }, 120_000);
});
