import { createRedis, FAIL_FAST_REDIS, redisConnected, watchRedis } from '@cistern/queue';
import { listen, type Resources } from '@cistern/runtime';
import { buildServices } from './build-services.ts';
import { createRegistryApp } from './create-registry-app.ts';
import type { RegistryOptions } from './registry-options.ts';

const DEFAULT_IDLE_TIMEOUT_MS = 5 * 60_000;

export interface RunningRegistry {
  url: string;
  close(): Promise<void>;
}

export async function startRegistry(resources: Resources, port = resources.config.ports.registry, options: RegistryOptions = {}): Promise<RunningRegistry> {
  const { config, logger } = resources;
  // Pulls take on-demand locks on it: while Redis is unreachable they answer 503 at once instead of waiting for it.
  const redis = createRedis(config.redisUrl, FAIL_FAST_REDIS);
  watchRedis(redis, resources.redisWatch, logger);
  // With the offline queue off, a pull in the first milliseconds would be refused while Redis is fine.
  await redisConnected(redis).catch((error: unknown) => {
    redis.disconnect();
    throw error;
  });
  const services = buildServices(resources, redis, options);
  const server = await listen(createRegistryApp({ resources, redis, services }), config.host, port);
  // A client that stops reading would otherwise hold its connection, open file and buffers forever.
  server.server.setTimeout(options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS);
  logger.info({ url: server.url, publicUrl: config.publicUrl }, 'registry listening');
  return {
    url: server.url,
    close: async () => {
      await server.close(config.shutdownTimeoutMs);
      redis.disconnect();
    },
  };
}
