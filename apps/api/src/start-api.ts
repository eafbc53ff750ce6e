import { createRedis } from '@cistern/queue';
import { listen, type Resources } from '@cistern/runtime';
import { createApiApp } from './create-api-app.ts';

export interface RunningApi {
  url: string;
  close(): Promise<void>;
}

export async function startApi(resources: Resources, port = resources.config.ports.api): Promise<RunningApi> {
  const { config, logger } = resources;
  const redis = createRedis(config.redisUrl);
  redis.on('error', (error) => logger.warn({ err: error }, 'api: redis connection error'));
  const server = await listen(createApiApp({ resources, redis }), config.host, port);
  logger.info({ url: server.url }, 'management API listening');
  return {
    url: server.url,
    close: async () => {
      await server.close(config.shutdownTimeoutMs);
      redis.disconnect();
    },
  };
}
