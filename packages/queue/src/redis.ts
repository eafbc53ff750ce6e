import { CisternError, type CisternErrorOptions } from '@cistern/errors';
import type { ConnectionOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { redisAddress } from '@cistern/redis-lock';

/** Redis cannot be reached or does not answer; the message names host:port, never the password. Retryable unless said otherwise: Redis may be back later. */
export class RedisUnavailableError extends CisternError<'REDIS_UNAVAILABLE'> {
  override readonly name = 'RedisUnavailableError';

  constructor(message: string, options?: CisternErrorOptions) {
    super('REDIS_UNAVAILABLE', message, { retryable: true, ...options });
  }
}

/** Redis answers but has no database of the index REDIS_URL names: a setting to fix, not an outage. */
export class RedisDatabaseError extends CisternError<'REDIS_UNAVAILABLE'> {
  override readonly name = 'RedisDatabaseError';

  constructor(message: string, options?: CisternErrorOptions) {
    super('REDIS_UNAVAILABLE', message, options);
  }
}

/** host:port, never the password, for error lines. */
function describeRedisUrl(redisUrl: string): string {
  const url = new URL(redisUrl);
  return `${url.hostname}:${url.port || '6379'}`;
}

/** Which Redis a URL names, for the log: the URL without user or password, and the database index (the path, default 0). */
export function describeRedis(redisUrl: string): { url: string; database: number } {
  const url = new URL(redisUrl);
  return { url: `${url.protocol}//${describeRedisUrl(redisUrl)}`, database: Number(url.pathname.slice(1) || '0') };
}

/**
 * The one way Cistern connects to Redis. BullMQ's blocking commands need
 * `maxRetriesPerRequest: null`; every connection gets it so any may serve a worker.
 */
export function createRedis(redisUrl: string, options: RedisOptions = {}): Redis {
  return new Redis(redisUrl, { maxRetriesPerRequest: null, enableReadyCheck: true, ...options });
}

/**
 * Connection settings for BullMQ queues and workers, which then own (and close)
 * their connections. A command waits while Redis is unreachable and runs once
 * it is back: what workers want.
 */
export function redisConnectionOptions(redisUrl: string): ConnectionOptions {
  return { url: redisUrl, maxRetriesPerRequest: null };
}

/**
 * For connections that serve requests (the API's queues, the registry's
 * locks): while Redis is unreachable a command fails at once instead of
 * waiting in ioredis' offline queue for the reconnect, and one sent just
 * before the connection dropped fails at the drop instead of being sent again
 * later. BullMQ recommends this for producers ("Failing fast when Redis is
 * down"); workers keep waiting. Not for BullMQ workers (blocking commands).
 * Reconnects at least every 2 s (ioredis' own default; BullMQ's backs off to
 * 20 s), so requests succeed again within 2 s of Redis coming back.
 */
export const FAIL_FAST_REDIS = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  retryStrategy: (attempt: number) => Math.min(attempt * 50, 2000),
} as const satisfies RedisOptions;

/** Connection settings for the BullMQ queues a request path adds to or reads: FAIL_FAST_REDIS. */
export function producerConnectionOptions(redisUrl: string): ConnectionOptions {
  return { url: redisUrl, ...FAIL_FAST_REDIS };
}

/**
 * Resolves once `redis` is connected (at once if it is), so that a process
 * serves requests on a FAIL_FAST_REDIS connection only after its first
 * connect; rejects with a RedisUnavailableError after `timeoutMs`.
 */
export async function redisConnected(redis: Redis, timeoutMs = 10_000): Promise<void> {
  if (redis.status === 'ready') return;
  let timer: NodeJS.Timeout | undefined;
  let onReady: (() => void) | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      onReady = resolve;
      redis.once('ready', onReady);
      timer = setTimeout(() => reject(new RedisUnavailableError(`Redis at ${redisAddress(redis)} did not connect within ${timeoutMs} ms`)), timeoutMs);
    });
  } finally {
    clearTimeout(timer);
    if (onReady) redis.off('ready', onReady);
  }
}

/**
 * The readiness check of a connection: rejects at once while it is down (a
 * PING would wait in ioredis' offline queue until Redis is back) and after
 * `timeoutMs` of silence, with a RedisUnavailableError naming host:port.
 */
export async function pingRedis(redis: Redis, timeoutMs = 2000): Promise<void> {
  const where = redisAddress(redis);
  if (redis.status !== 'ready') throw new RedisUnavailableError(`Redis at ${where} is unreachable (connection ${redis.status})`);
  let timer: NodeJS.Timeout | undefined;
  const silence = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new RedisUnavailableError(`Redis at ${where} did not answer PING within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([redis.ping(), silence]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Fails fast with a clear error when nothing answers (RedisUnavailableError), instead of ioredis retrying
 * forever, or when Redis has no database of the URL's index (RedisDatabaseError).
 */
export async function assertRedisReachable(redisUrl: string, timeoutMs = 3000): Promise<void> {
  const probe = new Redis(redisUrl, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: timeoutMs,
    retryStrategy: () => null,
  });
  probe.on('error', () => undefined);
  try {
    try {
      await probe.connect();
      await probe.ping();
    } catch (error) {
      throw new RedisUnavailableError(`cannot reach Redis at ${describeRedisUrl(redisUrl)}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    // ioredis selects the database on connect but goes on in database 0 when that fails: select it here, where a failure stops the start.
    const { database } = describeRedis(redisUrl);
    await probe.select(database).catch((error: unknown) => {
      throw new RedisDatabaseError(
        `Redis at ${describeRedisUrl(redisUrl)} has no database ${database}, which REDIS_URL names (${(error as Error).message}); Redis has 16 unless its "databases" setting says otherwise`,
        { cause: error },
      );
    });
  } finally {
    probe.disconnect();
  }
}
