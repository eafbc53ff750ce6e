import { createRedis, FAIL_FAST_REDIS, redisConnected, watchRedis } from '@cistern/queue';
import { ResourceLocks } from '@cistern/redis-lock';
import { CacheFlusher } from '@cistern/registry-core';
import { listen, type Resources } from '@cistern/runtime';
import { buildServices } from './build-services.ts';
import { createRegistryApp } from './create-registry-app.ts';
import type { RegistryOptions } from './registry-options.ts';

const DEFAULT_IDLE_TIMEOUT_MS = 5 * 60_000;
/** A flush's lock outlives a stalled flusher by at most this; it is renewed while the flush runs. */
const FLUSH_LOCK_TTL_MS = 30_000;

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
  const flusher = new CacheFlusher({
    prisma: resources.db.prisma,
    redis,
    prefix: config.redisPrefix,
    locks: new ResourceLocks(redis, `${config.redisPrefix}:registry`, FLUSH_LOCK_TTL_MS),
    logger,
    intervalMs: config.pullThrough.flushMs,
  });
  const server = await listen(createRegistryApp({ resources, redis, services }), config.host, port);
  // Pull-through content is written into versions in the background, never on a pull's path.
  flusher.start();
  // A client that stops reading would otherwise hold its connection, open file and buffers forever.
  server.server.setTimeout(options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS);
  logger.info({ url: server.url, publicUrl: config.publicUrl }, 'registry listening');
  return {
    url: server.url,
    close: async () => {
      await server.close(config.shutdownTimeoutMs);
      // Pending writes it leaves are served and written by any other registry process, or by this one's next start.
      await flusher.stop();
      redis.disconnect();
    },
  };
}
