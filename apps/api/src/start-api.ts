import { AdminSessions, TokenService } from '@cistern/auth';
import { createDomainServices, taskKinds } from '@cistern/domain';
import { closeQueue, createRedis, openProducerQueues, TaskService, watchBullmq, watchRedis } from '@cistern/queue';
import { listen, type Resources } from '@cistern/runtime';
import { createApiApp } from './create-api-app.ts';
import { exportGlobalGauges } from './global-gauges.ts';

export interface RunningApi {
  url: string;
  close(): Promise<void>;
}

export interface StartApiOptions {
  port?: number;
}

export async function startApi(resources: Resources, options: StartApiOptions = {}): Promise<RunningApi> {
  const { config, logger, db, redisWatch } = resources;
  const redis = createRedis(config.redisUrl);
  watchRedis(redis, redisWatch, logger);
  // Requests add to these queues: while Redis is unreachable they fail at once (503) instead of waiting for it.
  const { taskQueue, scheduleQueue } = await openProducerQueues(config.redisUrl, config.redisPrefix);
  for (const queue of [taskQueue, scheduleQueue]) watchBullmq(queue, redisWatch, logger);
  const tokens = new TokenService(db.prisma, config.adminToken);
  const services = createDomainServices({
    prisma: db.prisma,
    secretKey: resources.secretKey,
    tasks: new TaskService(db.prisma, taskQueue, taskKinds, logger.child({ app: 'api' })),
    scheduleQueue,
    tokens,
    storage: resources.storage,
  });
  const context = { ...services, config, authenticator: tokens, logger };
  const stopGauges = await exportGlobalGauges({ prisma: db.prisma, queues: [taskQueue, scheduleQueue], redisWatch });
  const server = await listen(
    createApiApp({
      context,
      redis,
      ping: () => db.ping(),
      metricsToken: config.metricsToken,
      admin: {
        sessions: new AdminSessions(tokens, resources.secretKey),
        tokens,
        queues: [taskQueue, scheduleQueue],
        logger: logger.child({ app: 'api' }),
      },
    }),
    config.host,
    options.port ?? config.ports.api,
  ).catch((error: unknown) => {
    // A port already taken: the gauges' refresh timer must not keep the failed start alive.
    stopGauges();
    throw error;
  });
  logger.info({ url: server.url }, 'management API listening');
  if (config.adminToken === undefined && (await db.prisma.apiToken.count()) === 0) {
    // A first start without a token would answer every API call 401 with nothing to say how to get one.
    logger.warn('no API token exists and CISTERN_ADMIN_TOKEN is unset: every /api/v1 call answers 401; restart with CISTERN_ADMIN_TOKEN set (32+ characters)');
  }
  return {
    url: server.url,
    close: async () => {
      stopGauges();
      await server.close(config.shutdownTimeoutMs);
      await Promise.all([closeQueue(taskQueue), closeQueue(scheduleQueue)]);
      redis.disconnect();
    },
  };
}
