import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readdir, readFile } from 'node:fs/promises';
import {
  createTestDatabase,
  createTestRedisPrefix,
  freePort,
  makeTempDir,
  removeDir,
  startSyntheticUpstream,
  TEST_REDIS_URL,
  type SyntheticUpstream,
} from '@cistern/testkit';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/**
 * Runs one of Cistern's entry points as a real process, as `npm start` would;
 * with `ownGroup`, as the leader of a process group of its own, which a test
 * signals whole as a terminal's Ctrl-C does (`process.kill(-pid, 'SIGINT')`).
 */
export function startProcess(entry: string, env: Record<string, string>, options: { ownGroup?: boolean } = {}): Started {
  let output = '';
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, entry)], {
    cwd: ROOT,
    detached: options.ownGroup ?? false,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/**
 * Polls `url` until it answers 200, or throws after `timeoutMs`. Given the
 * process that serves it, fails as soon as that process exits, and either
 * failure carries the process's output, so a start that went wrong says why.
 */
export async function waitForReady(url: string, options: { of?: Started; timeoutMs?: number } = {}): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  const said = () => (options.of ? `; its output:\n${options.of.output()}` : '');
  for (;;) {
    const child = options.of?.child;
    if (child && (child.exitCode !== null || child.signalCode !== null)) {
      throw new Error(`${url}: the process exited (${child.exitCode ?? child.signalCode}) before it was ready${said()}`);
    }
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(5000) })).status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} never became ready${said()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * `npm start` as a real process (API, worker and registry in one) with `env`
 * and ports of its own; resolves once the API and the registry answer
 * /readyz, with their origins (`http://127.0.0.1:<port>`).
 */
/** The three processes of a separate start, each on its own port. */
export interface ThreeProcesses {
  ports: { api: number; worker: number; registry: number };
  /** API, worker and registry, in that order. */
  processes: Started[];
  /** SIGTERMs each and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Starts the API, then (once it has migrated the database) the worker and
 * the registry, as separate processes on free ports with `env`; resolves once
 * each answers /readyz.
 */
export async function startThreeProcesses(env: Record<string, string>): Promise<ThreeProcesses> {
  const ports = { api: await freePort(), worker: await freePort(), registry: await freePort() };
  const all = { ...env, API_PORT: String(ports.api), WORKER_PORT: String(ports.worker), REGISTRY_PORT: String(ports.registry) };
  const processes = [startProcess('apps/api/src/main.ts', all)];
  await waitForReady(`http://127.0.0.1:${ports.api}/readyz`, { of: processes[0] });
  processes.push(startProcess('apps/worker/src/main.ts', all), startProcess('apps/registry/src/main.ts', all));
  for (const [i, port] of [ports.api, ports.worker, ports.registry].entries()) await waitForReady(`http://127.0.0.1:${port}/readyz`, { of: processes[i] });
  return {
    ports,
    processes,
    stop: async () => {
      for (const run of processes) run.child.kill('SIGTERM');
      await Promise.all(processes.map((run) => run.exited));
    },
  };
}

export async function startAllInOne(env: Record<string, string>): Promise<{ cistern: Started; api: string; registry: string }> {
  const [apiPort, registryPort, workerPort] = [await freePort(), await freePort(), await freePort()];
  const ports = { API_PORT: String(apiPort), REGISTRY_PORT: String(registryPort), WORKER_PORT: String(workerPort) };
  const cistern = startProcess('scripts/start-all.ts', { ...env, ...ports });
  const [api, registry] = [`http://127.0.0.1:${apiPort}`, `http://127.0.0.1:${registryPort}`];
  await waitForReady(`${api}/readyz`, { of: cistern });
  await waitForReady(`${registry}/readyz`, { of: cistern });
  return { cistern, api, registry };
}

/** What an admin's API call answered: its status and JSON body. */
export interface ApiReply {
  status: number;
  body: Record<string, unknown> & { id: string };
}

/** A whole Cistern (all-in-one) on its own database, data dir and Redis prefix, driven as a user drives it. */
export interface UserCistern {
  /** The registry's `host:port`, what clients pull from. */
  registryHost: string;
  /** An admin's call to the management API, `url` under /api/v1. */
  call(method: string, url: string, body?: unknown): Promise<ApiReply>;
  stop(): Promise<void>;
}

/** Starts a UserCistern with `env` added to its settings; `stop` removes everything it made. */
export async function startUserCistern(env: Record<string, string> = {}): Promise<UserCistern> {
  const admin = `user-admin-token-${randomUUID()}`;
  const db = await createTestDatabase();
  const redis = createTestRedisPrefix();
  const dataDir = await makeTempDir('user');
  const started = await startAllInOne({
    DATA_DIR: dataDir,
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: redis.prefix,
    CISTERN_ADMIN_TOKEN: admin,
    LOG_LEVEL: 'warn',
    ...env,
  });
  const api = `${started.api}/api/v1`;
  return {
    registryHost: new URL(started.registry).host,
    call: async (method, url, body) => {
      const res = await fetch(`${api}${url}`, {
        method,
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: (await res.json()) as ApiReply['body'] };
    },
    stop: async () => {
      started.cistern.child.kill('SIGTERM');
      await started.cistern.exited;
      await redis.cleanup();
      await db.drop();
      await removeDir(dataDir);
    },
  };
}

export interface TaskView {
  id: string;
  state: string;
  warnings: { code: string; message: string }[] | null;
  progressReports: { code: string; message: string; done: number | null; total: number | null; state: string }[];
  createdResources: string[];
  error: unknown;
  finishedAt: string | null;
}

export interface SeparateCistern {
  api: string;
  /** The worker's HTTP root (health, `/metrics`). */
  workerUrl: string;
  /** The processes' environment (ports, database, Redis), for scraping their ports or starting another process beside them. */
  env: Readonly<{ API_PORT: string; WORKER_PORT: string; [name: string]: string }>;
  /** The worker process, for /proc readings; the latest one after `restartWorker`. */
  readonly worker: Started;
  /** Starts a new worker on the same settings once the current one has exited (a test killed it); ready when it resolves. */
  restartWorker(): Promise<Started>;
  call(method: string, url: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Creates a remote and a repository and starts a sync through the API; returns the task id. */
  sync(remote: Record<string, unknown>, mirror?: boolean): Promise<string>;
  task(id: string): Promise<TaskView>;
  /** Polls the task every `everyMs` until `done` says so or `timeoutMs` passes; returns the last reading. */
  waitTask(id: string, done: (task: TaskView) => boolean, timeoutMs: number, everyMs?: number): Promise<TaskView>;
  stop(): Promise<void>;
}

const ADMIN_TOKEN = 'separate-processes-admin-token-0123456789';

/** The API and the worker as separate processes on PostgreSQL and Redis (under `redisPrefix`), as production runs them. */
export async function startApiAndWorker(options: {
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
  dataDir: string;
  workerEnv?: Record<string, string>;
}): Promise<SeparateCistern> {
  const env = {
    DATA_DIR: options.dataDir,
    DATABASE_URL: options.databaseUrl,
    REDIS_URL: options.redisUrl,
    REDIS_PREFIX: options.redisPrefix,
    CISTERN_ADMIN_TOKEN: ADMIN_TOKEN,
    API_PORT: String(await freePort()),
    REGISTRY_PORT: String(await freePort()),
    WORKER_PORT: String(await freePort()),
    LOG_LEVEL: 'warn',
  };
  // The API migrates the database first; the worker then starts on it.
  const apiProcess = startProcess('apps/api/src/main.ts', env);
  await waitForReady(`http://127.0.0.1:${env.API_PORT}/readyz`, { of: apiProcess });
  const startWorker = async () => {
    const started = startProcess('apps/worker/src/main.ts', { ...env, MALLOC_ARENA_MAX: '2', ...options.workerEnv });
    await waitForReady(`http://127.0.0.1:${env.WORKER_PORT}/readyz`, { of: started });
    return started;
  };
  let worker = await startWorker();
  const api = `http://127.0.0.1:${env.API_PORT}/api/v1`;
  let names = 0;

  const call: SeparateCistern['call'] = async (method, url, body) => {
    const res = await fetch(`${api}${url}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const created = async (url: string, body: unknown): Promise<Record<string, unknown>> => {
    const reply = await call('POST', url, body);
    if (reply.status >= 300) throw new Error(`POST ${url} answered ${reply.status}: ${JSON.stringify(reply.body)}`);
    return reply.body;
  };
  const task = async (id: string) => (await call('GET', `/tasks/${id}`)).body as unknown as TaskView;
  return {
    api,
    workerUrl: `http://127.0.0.1:${env.WORKER_PORT}`,
    env,
    get worker() {
      return worker;
    },
    restartWorker: async () => {
      await worker.exited;
      worker = await startWorker();
      return worker;
    },
    call,
    task,
    sync: async (remote, mirror = true) => {
      names += 1;
      const r = await created('/remotes', { name: `remote-${names}`, ...remote });
      const repo = await created('/repositories', { name: `repo-${names}`, remote: r.id });
      const started = await created(`/repositories/${String(repo.id)}/sync`, { mirror });
      return (started.task as { id: string }).id;
    },
    waitTask: async (id, done, timeoutMs, everyMs = 50) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const t = await task(id);
        if (done(t) || Date.now() > deadline) return t;
        await new Promise((r) => setTimeout(r, everyMs));
      }
    },
    stop: async () => {
      for (const p of [worker, apiProcess]) p.child.kill('SIGTERM');
      await Promise.all([worker.exited, apiProcess.exited]);
    },
  };
}

export interface ProcessReadings {
  peakFds: number;
  /** Highest VmRSS seen by sampling. */
  peakRssMiB: number;
  /** The kernel's own peak (VmHWM) at the last sample. */
  hwmMiB: number;
  stop(): Promise<void>;
}

/** Samples a process's open descriptors and RSS from /proc every `everyMs`. */
export function sampleProcess(pid: number, everyMs: number): ProcessReadings {
  const readings = { peakFds: 0, peakRssMiB: 0, hwmMiB: 0 };
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        readings.peakFds = Math.max(readings.peakFds, (await readdir(`/proc/${pid}/fd`)).length);
        const status = await readFile(`/proc/${pid}/status`, 'utf8');
        const mib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) / 1024;
        readings.peakRssMiB = Math.max(readings.peakRssMiB, mib('VmRSS'));
        readings.hwmMiB = mib('VmHWM');
      } catch {
        return;
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return Object.assign(readings, {
    stop: async () => {
      running = false;
      await loop;
    },
  });
}

export interface SyncFixture {
  cistern: SeparateCistern;
  /** The processes' DATA_DIR (blobs under `storage/`). */
  dataDir: string;
  upstream: SyntheticUpstream;
  /** The test database's URL, for reading rows directly. */
  databaseUrl: string;
  /** The processes' REDIS_PREFIX on the test Redis. */
  redisPrefix: string;
  stop(): Promise<void>;
}

/**
 * A fresh database, data directory and Redis key prefix (REDIS_PREFIX; its
 * keys deleted after), the API and the worker (with `workerEnv` added to its
 * environment) on them, and a synthetic upstream.
 */
export async function startSyncFixture(workerEnv?: Record<string, string>): Promise<SyncFixture> {
  const db = await createTestDatabase();
  const dataDir = await makeTempDir('cistern-processes');
  const redis = createTestRedisPrefix();
  const cistern = await startApiAndWorker({ databaseUrl: db.url, redisUrl: TEST_REDIS_URL, redisPrefix: redis.prefix, dataDir, workerEnv });
  const upstream = await startSyntheticUpstream();
  return {
    cistern,
    dataDir,
    upstream,
    databaseUrl: db.url,
    redisPrefix: redis.prefix,
    stop: async () => {
      await cistern.stop();
      await upstream.stop();
      await redis.cleanup();
      await db.drop();
      await removeDir(dataDir);
    },
  };
}
