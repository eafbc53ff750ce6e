import { createRedis } from '@cistern/queue';
import { listen, type Resources } from '@cistern/runtime';
import { createRegistryApp } from './create-registry-app.ts';

export interface RunningRegistry {
  url: string;
  close(): Promise<void>;
}

export async function startRegistry(resources: Resources, port = resources.config.ports.registry): Promise<RunningRegistry> {
  const { config, logger } = resources;
  const redis = createRedis(config.redisUrl);
  redis.on('error', (error) => logger.warn({ err: error }, 'registry: redis connection error'));
  const server = await listen(createRegistryApp({ resources, redis }), config.host, port);
  logger.info({ url: server.url, publicUrl: config.publicUrl }, 'registry listening');
  return {
    url: server.url,
    close: async () => {
      await server.close(config.shutdownTimeoutMs);
      redis.disconnect();
    },
  };
}
