import { randomBytes } from 'node:crypto';
import {
  createTestDatabase,
  freePort,
  json,
  makeTempDir,
  OCI_CONFIG,
  OCI_LAYER_GZIP,
  OCI_MANIFEST,
  removeDir,
  startSyntheticUpstream,
  type SyntheticUpstream,
  type TestDatabase,
} from '@cistern/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisServersOf } from './embedded-redis.ts';
import { startProcess, waitForReady, type Started } from './processes.ts';

// `npm start` with REDIS_URL unset starts its own redis-server. A terminal's
// Ctrl-C signals the whole process group: the embedded Redis must not die
// first (it runs in a session of its own and is stopped last), and a sync in
// flight goes back to waiting instead of holding the shutdown.
const ADMIN = 'ctrl-c-during-sync-admin-token-0123456789';
const REPO = 'team/app';
const STOP_WITHIN_MS = 5000;

let db: TestDatabase;
let dataDir: string;
let upstream: SyntheticUpstream;
let env: Record<string, string>;
let layer: string;
const runs: Started[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  dataDir = await makeTempDir('ctrl-c');
  upstream = await startSyntheticUpstream();
  const config = json({ architecture: 'amd64', os: 'linux' });
  const bytes = randomBytes(64 * 1024);
  const configDigest = upstream.addBlob(REPO, config);
  layer = upstream.addBlob(REPO, bytes);
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: configDigest, size: config.length },
    layers: [{ mediaType: OCI_LAYER_GZIP, digest: layer, size: bytes.length }],
  };
  upstream.addManifest(REPO, json(manifest), OCI_MANIFEST, ['1.0']);
  env = {
    DATA_DIR: dataDir,
    DATABASE_URL: db.url,
    EMBEDDED_REDIS_PORT: String(await freePort()),
    CISTERN_ADMIN_TOKEN: ADMIN,
    API_PORT: String(await freePort()),
    REGISTRY_PORT: String(await freePort()),
    WORKER_PORT: String(await freePort()),
  };
});
afterAll(async () => {
  for (const run of runs) if (run.child.exitCode === null) process.kill(-(run.child.pid ?? 0), 'SIGKILL');
  await upstream.stop();
  await db.drop();
  await removeDir(dataDir);
});

async function start(): Promise<Started> {
  const run = startProcess('scripts/start-all.ts', env, { ownGroup: true });
  runs.push(run);
  for (const port of [env.API_PORT, env.WORKER_PORT, env.REGISTRY_PORT]) await waitForReady(`http://127.0.0.1:${port}/readyz`, { of: run });
  return run;
}

async function call<T>(method: string, url: string, body?: unknown): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${env.API_PORT}/api/v1${url}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return (await res.json()) as T;
}

async function taskState(url: string, id: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ state: string }>('SELECT state FROM "Task" WHERE id = $1', [id]);
    return rows[0]?.state;
  } finally {
    await client.end();
  }
}

/** Ctrl-C as a terminal sends it: SIGINT to every process of the group. Resolves with the exit code and how long it took. */
async function ctrlC(run: Started): Promise<{ code: number | null; ms: number }> {
  const t0 = performance.now();
  process.kill(-(run.child.pid ?? 0), 'SIGINT');
  const code = await run.exited;
  return { code, ms: performance.now() - t0 };
}

function expectQuiet(output: string): void {
  expect(output).not.toContain('ECONNREFUSED');
  // A stack trace, printed raw or inside a JSON log line.
  expect(output).not.toMatch(/\n\s+at |\\n\s+at /);
}

describe('Ctrl-C under npm start while a sync runs', () => {
  it('stops within seconds, quietly, embedded Redis last; the sync waits and completes at the next start', async () => {
    let held = false;
    // The layer download hangs: the sync is running when Ctrl-C comes.
    upstream.intercept((req) => {
      if (req.method !== 'GET' || !req.url?.includes(`/blobs/${layer}`)) return false;
      held = true;
      return true;
    });
    const first = await start();
    expect(first.output()).toContain('started an embedded redis-server');
    expect(first.output()).toContain(`"redis":{"url":"redis://127.0.0.1:${env.EMBEDDED_REDIS_PORT}","database":0,"prefix":"cistern"}`);
    const [redisPid] = await redisServersOf(dataDir);
    expect(redisPid).toBeDefined();

    const remote = await call<{ id: string }>('POST', '/remotes', { name: 'slow', url: upstream.url, upstreamName: REPO });
    const repo = await call<{ id: string }>('POST', '/repositories', { name: 'app', remote: remote.id });
    const { task } = await call<{ task: { id: string } }>('POST', `/repositories/${repo.id}/sync`, { mirror: true });
    for (let i = 0; !held && i < 200; i++) await new Promise((r) => setTimeout(r, 50));
    expect(held).toBe(true);
    expect(await taskState(db.url, task.id)).toBe('running');

    const stopped = await ctrlC(first);
    console.log(`Ctrl-C during a sync: exited ${stopped.code} after ${Math.round(stopped.ms)} ms`);
    expect(stopped.code).toBe(0);
    expect(stopped.ms).toBeLessThan(STOP_WITHIN_MS);
    expectQuiet(first.output());
    expect(first.output()).toContain('"msg":"stopped"');
    expect(await redisServersOf(dataDir)).toEqual([]);
    expect(await taskState(db.url, task.id)).toBe('waiting');

    upstream.intercept(undefined);
    const second = await start();
    for (let i = 0; (await taskState(db.url, task.id)) !== 'completed' && i < 300; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await taskState(db.url, task.id)).toBe('completed');
    const done = await call<{ createdResources: string[] }>('GET', `/tasks/${task.id}`);
    expect(done.createdResources).toHaveLength(1);

    const again = await ctrlC(second);
    expect(again.code).toBe(0);
    expectQuiet(second.output());
    expect(await redisServersOf(dataDir)).toEqual([]);
  }, 120_000);
});
