import {
  createTestDatabase,
  makeTempDir,
  pushImage,
  removeDir,
  scrapeMetrics,
  startDistribution,
  startOwnRedis,
  startTcpProxy,
  waitFor,
  type Distribution,
  type OwnRedis,
  type TcpProxy,
  type TestDatabase,
} from '@cistern/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startThreeProcesses, waitForReady, type Started, type ThreeProcesses } from './processes.ts';

// A Redis of this file's own to kill, and PostgreSQL behind a proxy to cut (the shared server is never stopped).
const ADMIN = 'outage-logs-admin-token-0123456789abcdef';
const APPS = ['api', 'worker', 'registry'] as const;

let upstream: Distribution;
let db: TestDatabase;
let pgProxy: TcpProxy;
let redis: OwnRedis;
let dataDir: string;
let three: ThreeProcesses | undefined;
let processes: Started[] = [];
let ports = { api: 0, worker: 0, registry: 0 };

beforeAll(async () => {
  upstream = await startDistribution();
  db = await createTestDatabase();
  const direct = new URL(db.url);
  pgProxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
  const proxied = new URL(db.url);
  proxied.host = `127.0.0.1:${pgProxy.port}`;
  redis = await startOwnRedis();
  dataDir = await makeTempDir('outage-logs');
  const env = {
    DATA_DIR: dataDir,
    DATABASE_URL: proxied.toString(),
    REDIS_URL: redis.url,
    CISTERN_ADMIN_TOKEN: ADMIN,
    LOG_LEVEL: 'info',
  };
  three = await startThreeProcesses(env);
  ({ processes, ports } = three);
}, 120_000);
afterAll(async () => {
  await three?.stop();
  await redis.stop();
  await pgProxy.stop();
  await upstream.stop();
  await db.drop();
  await removeDir(dataDir);
});

interface LogLine {
  msg?: string;
  dependency?: string;
}

/** Every line a process wrote; fails naming the line when one is not JSON (a stack trace, an ioredis dump). */
function lines(run: Started): LogLine[] {
  return run
    .output()
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as LogLine;
      } catch {
        throw new Error(`a line that is not JSON: ${line}\nin:\n${run.output()}`);
      }
    });
}

const said = (run: Started, dependency: string, msg: string) => lines(run).filter((l) => l.dependency === dependency && l.msg === msg).length;

async function readiness(app: (typeof APPS)[number]): Promise<number> {
  return (await fetch(`http://127.0.0.1:${ports[app]}/readyz`, { signal: AbortSignal.timeout(5000) })).status;
}

async function call<T>(method: string, url: string, body?: unknown): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${ports.api}/api/v1${url}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (res.status >= 300) throw new Error(`${method} ${url} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

describe('logs during a Redis and a PostgreSQL outage', () => {
  it('stay JSON lines and say once per process that each service is unreachable and once that it is back; the processes serve again', async () => {
    redis.server.process.kill('SIGKILL');
    await new Promise((resolve) => redis.server.process.once('exit', resolve));
    // Seconds of reconnect attempts: each used to print a stack trace.
    await new Promise((r) => setTimeout(r, 4000));
    for (const app of APPS) expect(await readiness(app)).toBe(503);
    // /metrics still answers, without the queue gauge, and counts why.
    const withoutRedis = await scrapeMetrics(`http://127.0.0.1:${ports.api}/metrics`);
    expect(withoutRedis.series('cistern_queue_jobs')).toEqual([]);
    expect(withoutRedis.value('cistern_metrics_collect_errors_total', { source: 'queue_jobs' })).toBeGreaterThanOrEqual(1);
    await redis.start();
    for (const [i, app] of APPS.entries()) await waitForReady(`http://127.0.0.1:${ports[app]}/readyz`, { of: processes[i], timeoutMs: 15_000 });
    for (const run of processes) await waitFor('the Redis "back" line', async () => said(run, 'redis', 'redis is back') > 0, 15_000);

    await pgProxy.cut();
    // Readiness checks query the database: several each, and one line says it is gone.
    for (let round = 0; round < 3; round++) {
      for (const app of APPS) expect(await readiness(app)).toBe(503);
      await new Promise((r) => setTimeout(r, 500));
    }
    const withoutDatabase = await scrapeMetrics(`http://127.0.0.1:${ports.api}/metrics`);
    expect(withoutDatabase.value('cistern_metrics_collect_errors_total', { source: 'repository_last_sync_success' })).toBeGreaterThanOrEqual(1);
    expect(withoutDatabase.value('cistern_queue_jobs', { queue: 'tasks', state: 'waiting' })).toBe(0);
    await pgProxy.restore();
    // Nothing else queries meanwhile: the watch's own recheck finds it back.
    for (const run of processes) await waitFor('the PostgreSQL "back" line', async () => said(run, 'postgresql', 'postgresql is back') > 0, 15_000);
    for (const app of APPS) expect(await readiness(app)).toBe(200);

    for (const run of processes) {
      expect(said(run, 'redis', 'redis is unreachable; waiting for it to come back')).toBe(1);
      expect(said(run, 'redis', 'redis is back')).toBe(1);
      expect(said(run, 'postgresql', 'postgresql is unreachable; waiting for it to come back')).toBe(1);
      expect(said(run, 'postgresql', 'postgresql is back')).toBe(1);
    }

    // They serve again: a sync through the API, run by the worker, pulled through the registry.
    await pushImage(upstream, 'team/app', '1.0');
    const remote = await call<{ id: string }>('POST', '/remotes', { name: 'up', url: upstream.url, upstreamName: 'team/app' });
    const repo = await call<{ id: string }>('POST', '/repositories', { name: 'app', remote: remote.id });
    const sync = await call<{ task: { id: string } }>('POST', `/repositories/${repo.id}/sync`, { mirror: true });
    const done = await waitFor('the sync to finish', async () => {
      const task = await call<{ state: string }>('GET', `/tasks/${sync.task.id}`);
      return ['completed', 'failed', 'canceled'].includes(task.state) ? task : undefined;
    });
    expect(done.state).toBe('completed');
    await call('POST', '/distributions', { name: 'app', basePath: 'app', repository: repo.id });
    const pulled = await fetch(`http://127.0.0.1:${ports.registry}/v2/app/tags/list`);
    expect(pulled.status).toBe(200);
    expect(await pulled.json()).toMatchObject({ tags: ['1.0'] });
    // And the whole run, outages included, is JSON lines.
    for (const run of processes) expect(lines(run).length).toBeGreaterThan(0);
  }, 150_000);
});
