// Cistern's syncs as production runs them: a running worker process (the
// esbuild bundle of apps/worker on plain node) takes sync tasks from the queue.
// A sync's time is from creating its task to its job's completion (the task row
// says completed a few ms before); the worker's start-up is not part of a sync.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '@cistern/config';
import { createRepository, openDatabase } from '@cistern/db';
import { QueueEvents } from 'bullmq';
import { createTaskQueue, redisConnectionOptions, repositoryResource, TASK_QUEUE, TaskService } from '@cistern/queue';
import { syncTask } from '@cistern/sync';
import { createTestDatabase, createTestRedisPrefix, freePort, makeTempDir, removeDir, TEST_REDIS_URL, type FaultProxy } from '@cistern/testkit';

export interface TaskRun {
  wallS: number;
  /** Worker CPU (user + system) spent during the task. */
  cpuS: number;
  /** The worker's peak RSS so far (VmHWM), start-up included. */
  peakRssMiB: number;
  createdResources: unknown;
  /** Upstream requests by kind, when the remote points at a counting proxy. */
  requests: Record<string, number>;
}

export interface WorkerSyncs {
  startS: number;
  full: TaskRun;
  noop: TaskRun;
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

async function cpuSeconds(pid: number): Promise<number> {
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

async function peakRssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

/**
 * Starts a worker on a fresh database and storage, syncs `upstreamUrl/repo`
 * twice (full, then no-op) and stops it. With `counter`, `upstreamUrl` is that
 * proxy's and each run's requests are counted.
 */
export async function syncThroughWorker(options: {
  workerBundle: string;
  upstreamUrl: string;
  repo: string;
  nodeArgs?: string[];
  counter?: FaultProxy;
}): Promise<WorkerSyncs> {
  const { workerBundle, upstreamUrl, repo, nodeArgs = [], counter } = options;
  const testDb = await createTestDatabase();
  const dataDir = await makeTempDir('bench-sync-worker');
  const port = await freePort();
  const redis = createTestRedisPrefix();
  const started = performance.now();
  const worker = spawn(process.execPath, [...nodeArgs, workerBundle], {
    // MALLOC_ARENA_MAX as Cistern's launchers set it (README, "Memory").
    env: {
      ...process.env,
      MALLOC_ARENA_MAX: '2',
      DATABASE_URL: testDb.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: redis.prefix,
      DATA_DIR: dataDir,
      WORKER_PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  let exit: string | undefined;
  const exited = new Promise<void>((resolve) =>
    worker.once('exit', (code, signal) => {
      exit = signal ?? `code ${code}`;
      resolve();
    }),
  );
  const workerGone = exited.then(() => {
    throw new Error(`the worker exited (${exit}) during a sync`);
  });
  workerGone.catch(() => undefined);
  const pid = worker.pid ?? 0;
  const db = await openDatabase({ databaseUrl: testDb.url, dataDir, allowEmbedded: false });
  const queue = createTaskQueue({ connection: redisConnectionOptions(TEST_REDIS_URL), prefix: redis.prefix });
  // Finished jobs are announced on Redis; waiting for that costs the machine nothing while the worker runs.
  const events = new QueueEvents(TASK_QUEUE, { connection: redisConnectionOptions(TEST_REDIS_URL), prefix: redis.prefix });
  events.on('error', (error) => console.error(`queue events: ${error.message}`));
  try {
    for (;;) {
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) break;
      if (exit !== undefined) throw new Error(`the worker exited (${exit}) before it was ready`);
      await sleep(20);
    }
    const startS = (performance.now() - started) / 1000;
    await events.waitUntilReady();
    const remote = await db.prisma.remote.create({ data: { name: 'bench', url: upstreamUrl, upstreamName: repo } });
    const repository = await createRepository(db.prisma, { name: 'bench' });
    const tasks = new TaskService(db.prisma, queue, [syncTask], createLogger({ logLevel: 'silent' }));
    const sync = async (): Promise<TaskRun> => {
      counter?.reset();
      const cpuBefore = await cpuSeconds(pid);
      const t0 = performance.now();
      const { task } = await tasks.create({
        kind: 'sync',
        params: { repositoryId: repository.id, remoteId: remote.id, mirror: false },
        resource: repositoryResource(repository.id),
        dedupe: true,
      });
      const job = task.state === 'waiting' ? await queue.getJob(task.id) : undefined;
      if (job === undefined) throw new Error(`sync task ${task.state} before it was queued: ${JSON.stringify(task.error)}`);
      // Subscribes, then checks the job's state: a job that finished first is not missed. Failures are read from the row.
      await Promise.race([job.waitUntilFinished(events).catch(() => undefined), workerGone]);
      const wallS = (performance.now() - t0) / 1000;
      const row = await db.prisma.task.findUniqueOrThrow({ where: { id: task.id }, select: { state: true, createdResources: true, error: true } });
      if (row.state !== 'completed') throw new Error(`sync task ${row.state}: ${JSON.stringify(row.error)}`);
      return {
        wallS,
        cpuS: (await cpuSeconds(pid)) - cpuBefore,
        peakRssMiB: await peakRssMiB(pid),
        createdResources: row.createdResources,
        requests: counter?.counts() ?? {},
      };
    };
    const full = await sync();
    const noop = await sync();
    return { startS, full, noop };
  } finally {
    worker.kill('SIGTERM');
    await exited;
    await events.close();
    await queue.close();
    await redis.cleanup();
    await db.close();
    await testDb.drop();
    await removeDir(dataDir);
  }
}
