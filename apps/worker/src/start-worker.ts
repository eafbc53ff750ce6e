import { hostname } from 'node:os';
import {
  createRedis,
  createScheduleQueue,
  createScheduleWorker,
  createTaskQueue,
  createTaskWorker,
  onRedisReconnect,
  pingRedis,
  reconcileTasks,
  redisConnectionOptions,
  restoreSchedules,
  TaskService,
  watchBullmq,
  watchRedis,
  type TaskRunner,
} from '@cistern/queue';
import { metricsRouter } from '@cistern/metrics';
import { healthRouter, listen, type Resources } from '@cistern/runtime';
import { orphanCleanupTask, scheduledOrphanCleanup } from '@cistern/storage-lifecycle';
import { syncTask } from '@cistern/sync';
import express from 'express';

/** A started worker: its health URL, and how to stop it. */
export interface RunningWorker {
  url: string;
  close(): Promise<void>;
}

/** Where the worker's health endpoint listens, and the task kinds it runs. */
export interface StartWorkerOptions {
  port?: number;
  /** One runner per kind (see taskRunners). */
  tasks: readonly TaskRunner[];
}

/**
 * Reconciles tasks left over from a previous run, then takes jobs, and
 * reconciles again whenever Redis comes back from an outage; health on its own port.
 */
export async function startWorker(resources: Resources, options: StartWorkerOptions): Promise<RunningWorker> {
  const { config, logger, db, redisWatch } = resources;
  const redis = createRedis(config.redisUrl);
  watchRedis(redis, redisWatch, logger);
  const prefix = config.redisPrefix;
  const queue = createTaskQueue({ connection: redisConnectionOptions(config.redisUrl), prefix });
  const scheduleQueue = createScheduleQueue({ connection: redisConnectionOptions(config.redisUrl), prefix });
  const taskLog = logger.child({ app: 'worker' });
  for (const watched of [queue, scheduleQueue]) watchBullmq(watched, redisWatch, logger);
  const reconcile = async (closeOrphans: boolean) => {
    logger.info(await reconcileTasks(db.prisma, queue, { closeOrphans, log: taskLog }), 'reconciled tasks with the jobs Redis holds');
    logger.info(await restoreSchedules(db.prisma, scheduleQueue), 'restored schedules from the schedule table');
  };
  await reconcile(true);
  const scheduleWorker = createScheduleWorker({
    prisma: db.prisma,
    // Schedules start syncs and orphan cleanups, through the same TaskService path as the API.
    tasks: new TaskService(db.prisma, queue, [syncTask, orphanCleanupTask], taskLog),
    kind: syncTask,
    others: [scheduledOrphanCleanup],
    connection: redisConnectionOptions(config.redisUrl),
    logger: logger.child({ app: 'worker', queue: 'schedules' }),
    redisWatch,
    prefix,
  });
  const worker = createTaskWorker({
    prisma: db.prisma,
    connection: redisConnectionOptions(config.redisUrl),
    queue,
    redis,
    tasks: options.tasks,
    logger: taskLog,
    redisWatch,
    name: `${hostname()}:${process.pid}`,
    concurrency: config.workerConcurrency,
    prefix,
  });
  const app = express();
  app.disable('x-powered-by');
  app.use(
    healthRouter({
      database: () => db.ping(),
      redis: () => pingRedis(redis),
      worker: async () => {
        if (!worker.isRunning()) throw new Error('the task worker is not running');
      },
      schedules: async () => {
        if (!scheduleWorker.isRunning()) throw new Error('the schedule worker is not running');
      },
    }),
  );
  app.use(metricsRouter({ token: config.metricsToken }));
  const stopReconciling = onRedisReconnect(redis, () => reconcile(false), logger);
  const server = await listen(app, config.host, options.port ?? config.ports.worker);
  logger.info({ url: server.url, concurrency: config.workerConcurrency }, 'worker taking tasks');
  return {
    url: server.url,
    close: async () => {
      stopReconciling();
      // Running tasks go back to waiting at their next safe point (see createTaskWorker); new ones stay queued.
      await worker.close();
      await scheduleWorker.close();
      await scheduleQueue.close();
      await queue.close();
      await server.close(config.shutdownTimeoutMs);
      redis.disconnect();
    },
  };
}
