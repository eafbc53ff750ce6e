import type { Config, Logger } from '@cistern/config';
import { assertRedisReachable, describeRedis, RedisUnavailableError } from '@cistern/queue';
import { redisServerOnPath, startEmbeddedRedis, stopLeftoverRedis } from './embedded-redis.ts';

/** The Redis a process uses: what to log about the choice (URL without password, database index, key prefix), and how to stop an embedded server. */
export interface ChosenRedis {
  message: string;
  fields: Record<string, unknown>;
  stop?: () => Promise<void>;
}

/**
 * Finds the Redis this process uses. Only the all-in-one start with REDIS_URL
 * unset may start an embedded redis-server, and only when nothing answers at
 * the default address. An unreachable Redis raises RedisUnavailableError
 * saying why no embedded one was started.
 */
export async function chooseRedis(config: Config, allInOne: boolean, logger: Logger): Promise<ChosenRedis> {
  const redis = { ...describeRedis(config.redisUrl), prefix: config.redisPrefix };
  const unreachable = (error: unknown, why: string) =>
    error instanceof RedisUnavailableError ? new RedisUnavailableError(`${error.message}; ${why}`, { cause: error.cause }) : error;
  if (config.redisUrlSet || !allInOne) {
    await assertRedisReachable(config.redisUrl).catch((error: unknown) => {
      throw unreachable(
        error,
        config.redisUrlSet
          ? 'REDIS_URL is set, so no embedded Redis is started (`npm start` starts one only when REDIS_URL is unset)'
          : 'only `npm start` starts an embedded Redis; set REDIS_URL',
      );
    });
    return { fields: { redis }, message: config.redisUrlSet ? 'using the Redis at REDIS_URL' : 'REDIS_URL is unset: using the Redis at the default address' };
  }
  // Before probing: a leftover embedded server of this data directory would answer there.
  await stopLeftoverRedis(config.dataDir, logger);
  try {
    await assertRedisReachable(config.redisUrl);
    return { fields: { redis }, message: 'REDIS_URL is unset: using the Redis already answering at the default address, not an embedded one' };
  } catch (error) {
    if (!(error instanceof RedisUnavailableError) || !redisServerOnPath()) {
      throw unreachable(error, 'no redis-server on the PATH to start an embedded Redis; install it or set REDIS_URL');
    }
  }
  const embedded = await startEmbeddedRedis(config.redisUrl, config.dataDir);
  return {
    fields: { redis, pid: embedded.pid },
    message: 'REDIS_URL is unset and nothing answered at the default address: started an embedded redis-server',
    stop: embedded.stop,
  };
}
