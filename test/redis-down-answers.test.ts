import { randomBytes } from 'node:crypto';
import {
  createTestDatabase,
  makeTempDir,
  pushImage,
  removeDir,
  sha256,
  startDistribution,
  startOwnRedis,
  waitFor,
  type Distribution,
  type OwnRedis,
  type PushedManifest,
  type TestDatabase,
} from '@cistern/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAllInOne, waitForReady, type Started } from './processes.ts';

// A Redis of this file's own, killed and started again (empty, as a restarted Redis without persistence comes back).
const ADMIN = 'redis-down-admin-token-0123456789abcdef';
/** Far below the 36 s and 90 s the requests used to hang. */
const QUICK_MS = 2000;

let upstream: Distribution;
let db: TestDatabase;
let redis: OwnRedis;
let dataDir: string;
let cistern: Started;
let api: string;
let registry: string;
let image: PushedManifest;
let repositoryId: string;

interface Reply {
  status: number;
  ms: number;
  retryAfter: string | null;
  body: Record<string, unknown>;
}

async function request(url: string, init: RequestInit = {}): Promise<Reply> {
  const started = Date.now();
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  return {
    status: res.status,
    ms: Date.now() - started,
    retryAfter: res.headers.get('retry-after'),
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

const call = (method: string, path: string, body?: unknown) =>
  request(`${api}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

async function created(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const reply = await call(method, path, body);
  if (reply.status >= 300) throw new Error(`${method} ${path} answered ${reply.status}: ${JSON.stringify(reply.body)}`);
  return reply.body;
}

/** Waits for the task to finish; its final state. */
async function finalState(taskId: string): Promise<string> {
  return waitFor('the task to finish', async () => {
    const { state } = (await created('GET', `/tasks/${taskId}`)) as { state: string };
    return ['completed', 'failed', 'canceled'].includes(state) && state;
  });
}

/** The process's log lines so far (npm start: API, worker and registry in one process). */
const logLines = () =>
  cistern
    .output()
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as { app?: string; msg?: string; status?: number; route?: string });

beforeAll(async () => {
  upstream = await startDistribution();
  image = await pushImage(upstream, 'lib/lazy', 'v1', { layers: [randomBytes(256 * 1024)] });
  db = await createTestDatabase();
  redis = await startOwnRedis();
  dataDir = await makeTempDir('redis-down-answers');
  ({ cistern, api, registry } = await startAllInOne({ DATA_DIR: dataDir, DATABASE_URL: db.url, REDIS_URL: redis.url, CISTERN_ADMIN_TOKEN: ADMIN }));
  // A repository synced with downloadPolicy on_demand: its layer is fetched on first pull, under a Redis lock.
  const remote = await created('POST', '/remotes', { name: 'lazy', url: upstream.url, upstreamName: 'lib/lazy', policy: 'on_demand' });
  repositoryId = (await created('POST', '/repositories', { name: 'lazy', remote: remote.id })).id as string;
  const { task } = (await created('POST', `/repositories/${repositoryId}/sync`, {})) as { task: { id: string } };
  expect(await finalState(task.id)).toBe('completed');
  await created('POST', '/distributions', { name: 'lazy', basePath: 'lazy', repository: repositoryId });
}, 90_000);

afterAll(async () => {
  cistern?.child.kill('SIGTERM');
  await cistern?.exited;
  await redis?.stop();
  await upstream?.stop();
  await db?.drop();
  await removeDir(dataDir);
});

describe('requests that need Redis while it is down', () => {
  it('answer 503 with Retry-After at once, record nothing that runs later, log one line each, and work again once Redis is back', async () => {
    const layer = image.blobs[1] as string;
    const blobUrl = `${registry}/v2/lazy/blobs/${layer}`;
    redis.server.process.kill('SIGKILL');
    await new Promise((resolve) => redis.server.process.once('exit', resolve));
    await waitFor('the API to see Redis gone', async () => (await fetch(`${api}/readyz`)).status === 503);
    const linesBefore = logLines().length;

    const sync = await call('POST', `/repositories/${repositoryId}/sync`, {});
    expect(sync.ms).toBeLessThan(QUICK_MS);
    expect([sync.status, sync.retryAfter]).toEqual([503, '5']);
    expect(sync.body).toEqual({
      error: {
        code: 'REDIS_UNAVAILABLE',
        message: `Redis at 127.0.0.1:${redis.port} is unreachable: cannot queue the task now; try again once it is back`,
        details: [],
      },
    });
    // A schedule is written through to its job scheduler: refused as a whole.
    const schedule = await call('POST', '/schedules', { name: 'nightly', cron: '0 3 * * *', repository: repositoryId });
    expect([schedule.status, schedule.retryAfter, (schedule.body.error as { code: string }).code]).toEqual([503, '5', 'REDIS_UNAVAILABLE']);
    expect(schedule.ms).toBeLessThan(QUICK_MS);

    // The queue dashboard's data calls: Cistern's 503, not bull-board's 500 with the raw Redis error.
    const dashboard = await fetch(`${api}/admin/queues/api/queues`, { headers: { authorization: `Bearer ${ADMIN}` } });
    expect([dashboard.status, dashboard.headers.get('retry-after'), ((await dashboard.json()) as { error: { code: string } }).error.code]).toEqual([
      503,
      '5',
      'REDIS_UNAVAILABLE',
    ]);

    // The first pull of the on-demand layer takes a Redis lock: refused in the Distribution error format.
    const pull = await request(blobUrl);
    expect(pull.ms).toBeLessThan(QUICK_MS);
    expect([pull.status, pull.retryAfter]).toEqual([503, '5']);
    expect(pull.body).toEqual({
      errors: [{ code: 'UNAVAILABLE', message: 'service unavailable: Redis, which the registry needs for this request, is unreachable; try again later' }],
    });
    // What needs no Redis still answers: the blob's size, the manifest.
    expect((await request(blobUrl, { method: 'HEAD' })).status).toBe(200);
    expect((await request(`${registry}/v2/lazy/manifests/v1`)).status).toBe(200);

    // One request line each, and no error line with a stack: the watch said once that Redis is unreachable.
    const requestLines = () =>
      logLines()
        .slice(linesBefore)
        .filter((line) => line.msg === 'request');
    // Written when each response closes, and read from the process's pipe.
    await expect.poll(() => requestLines().length).toBe(6);
    const during = logLines().slice(linesBefore);
    expect(during.filter((line) => line.msg === 'request').map((line) => [line.app, line.status])).toEqual([
      ['api', 503],
      ['api', 503],
      ['api', 503],
      ['registry', 503],
      ['registry', 200],
      ['registry', 200],
    ]);
    expect(during.filter((line) => line.msg !== 'request')).toEqual([]);

    await redis.start();
    await waitForReady(`${api}/readyz`, { of: cistern, timeoutMs: 15_000 });
    await waitForReady(`${registry}/readyz`, { of: cistern, timeoutMs: 15_000 });
    // No task row was written, so none can run now that Redis is back: still only the first sync, and no schedule.
    expect((await created('GET', `/tasks?repository=${repositoryId}`)).count).toBe(1);
    expect((await created('GET', '/schedules')).count).toBe(0);

    // Within the Retry-After the answers gave, a sync is taken and runs again.
    const accepted = await waitFor(
      'the API to take a sync again',
      async () => {
        const reply = await call('POST', `/repositories/${repositoryId}/sync`, {});
        if (reply.status === 202) return reply.body.task as { id: string };
        await new Promise((r) => setTimeout(r, 200));
        return undefined;
      },
      5000,
    );
    expect(await finalState(accepted.id)).toBe('completed');
    const pulled = await fetch(blobUrl);
    expect(pulled.status).toBe(200);
    expect(sha256(Buffer.from(await pulled.arrayBuffer()))).toBe(layer);
  }, 60_000);
});
