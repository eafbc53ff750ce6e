import { randomBytes } from 'node:crypto';
import {
  createTestDatabase,
  makeTempDir,
  startOwnRedis,
  pushImage,
  removeDir,
  startDistribution,
  startFaultProxy,
  type Distribution,
  type FaultProxy,
  type OwnRedis,
  type TestDatabase,
  waitFor,
} from '@cistern/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startThreeProcesses, waitForReady, type Started, type ThreeProcesses } from './processes.ts';

// A Redis of this file's own, as documented (nothing kept on disk), that the test kills and starts again.
const ADMIN = 'redis-restart-admin-token-0123456789abcdef';
const STALL_MS = 20_000;

let upstream: Distribution;
let proxy: FaultProxy;
let db: TestDatabase;
let dataDir: string;
let redis: OwnRedis;
let three: ThreeProcesses | undefined;
let processes: Started[] = [];
let ports = { api: 0, worker: 0, registry: 0 };

beforeAll(async () => {
  upstream = await startDistribution();
  proxy = await startFaultProxy(upstream.url);
  db = await createTestDatabase();
  dataDir = await makeTempDir('redis-restart');
  // Up before the processes start: with REDIS_URL set, a Redis that does not answer stops them.
  redis = await startOwnRedis();
  const env = {
    DATA_DIR: dataDir,
    DATABASE_URL: db.url,
    REDIS_URL: redis.url,
    CISTERN_ADMIN_TOKEN: ADMIN,
    LOG_LEVEL: 'warn',
  };
  three = await startThreeProcesses(env);
  ({ processes, ports } = three);
}, 120_000);
afterAll(async () => {
  await three?.stop();
  await redis.stop();
  await proxy.stop();
  await upstream.stop();
  await db.drop();
  await removeDir(dataDir);
});

interface Task {
  id: string;
  state: string;
  createdAt: string;
  createdResources: string[];
  error: unknown;
}

async function call<T>(method: string, url: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`http://127.0.0.1:${ports.api}/api/v1${url}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as T };
}

async function finished(taskId: string): Promise<Task> {
  return waitFor(
    `task ${taskId} to finish`,
    async () => {
      const { body } = await call<Task>('GET', `/tasks/${taskId}`);
      return ['completed', 'failed', 'canceled'].includes(body.state) ? body : undefined;
    },
    60_000,
  );
}

async function readiness(port: number): Promise<{ status: number; checks: Record<string, string> }> {
  const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, checks: ((await res.json()) as { checks: Record<string, string> }).checks };
}

describe('a Redis restart mid-sync', () => {
  it('reports the loss on /readyz, then finishes the stranded sync, queues new ones and ticks schedules again', async () => {
    const image = await pushImage(upstream, 'team/app', '1.0', { layers: [randomBytes(2 * 1024 * 1024)] });
    const layer = image.blobs.at(-1) ?? '';
    // The layer download pauses half-way once, so the sync is still running when Redis goes.
    proxy.inject({ method: 'GET', kind: 'blob', pathIncludes: layer, fault: { type: 'stall', ms: STALL_MS }, times: 1 });
    const remote = await call<{ id: string }>('POST', '/remotes', { name: 'slow', url: proxy.url, upstreamName: 'team/app' });
    const repo = await call<{ id: string }>('POST', '/repositories', { name: 'app', remote: remote.body.id });
    const sync = await call<{ task: Task }>('POST', `/repositories/${repo.body.id}/sync`, { mirror: true });
    expect(sync.status).toBe(202);
    await waitFor('the layer download to stall', async () => (proxy.events.some((e) => e.fault === 'stall') ? true : undefined));

    // A schedule of another repository, ticking every second, shows schedulers come back.
    const direct = await call<{ id: string }>('POST', '/remotes', { name: 'direct', url: upstream.url, upstreamName: 'team/app' });
    const scheduled = await call<{ id: string }>('POST', '/repositories', { name: 'scheduled', remote: direct.body.id });
    const schedule = await call<{ id: string }>('POST', '/schedules', { name: 'every-second', cron: '* * * * * *', repository: scheduled.body.id });
    expect(schedule.status).toBe(201);
    await waitFor(
      'a first scheduled task',
      async () => (await call<{ lastTask: string | null }>('GET', `/schedules/${schedule.body.id}`)).body.lastTask ?? undefined,
    );

    redis.server.process.kill('SIGKILL');
    await new Promise((resolve) => redis.server.process.once('exit', resolve));
    for (const port of Object.values(ports)) {
      const ready = await readiness(port);
      expect(ready.status).toBe(503);
      expect(ready.checks.redis).toMatch(new RegExp(`^Redis at 127\\.0\\.0\\.1:${redis.port} (is unreachable|did not answer PING)`));
    }
    expect((await call<Task>('GET', `/tasks/${sync.body.task.id}`)).body.state).toBe('running');

    await new Promise((r) => setTimeout(r, 1000));
    await redis.start();
    const back = Date.now();
    const stranded = await finished(sync.body.task.id);
    const recoveryMs = Date.now() - back;
    expect(stranded).toMatchObject({ state: 'completed', createdResources: [`/api/v1/repositories/${repo.body.id}/versions/1`] });
    console.info(`redis-restart: the stranded task completed ${recoveryMs} ms after redis-server started again`);
    expect(recoveryMs).toBeLessThan(STALL_MS);
    for (const [i, port] of Object.values(ports).entries()) await waitForReady(`http://127.0.0.1:${port}/readyz`, { of: processes[i], timeoutMs: 10_000 });

    const later = await call<{ task: Task }>('POST', `/repositories/${repo.body.id}/sync`, { mirror: true });
    expect(later.status).toBe(202);
    expect(later.body.task.id).not.toBe(sync.body.task.id);
    expect(await finished(later.body.task.id)).toMatchObject({ state: 'completed', createdResources: [] });

    const tick = await waitFor('a schedule tick after the restart', async () => {
      const { body } = await call<{ results: Task[] }>('GET', `/tasks?repository=${scheduled.body.id}&limit=100`);
      return body.results.find((task) => Date.parse(task.createdAt) > back);
    });
    expect((await finished(tick.id)).state).toBe('completed');
  }, 150_000);
});
