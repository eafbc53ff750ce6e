import { CisternError } from '@cistern/errors';
import type { Redis } from 'ioredis';

/** What the check reads of a connection: an ioredis client, or BullMQ's wrapper of one. */
export interface RedisConnectionState {
  status: string;
  stream?: { writable: boolean } | undefined;
}

/**
 * Whether a command sent now reaches Redis: the connection is ready and its
 * socket still writable (ioredis learns of a dropped socket a moment after
 * the socket does, and meanwhile says `ready`). A command that failed while
 * this is false failed because Redis is unreachable; the error's message is
 * never read to tell.
 */
export function isRedisConnected(connection: RedisConnectionState): boolean {
  return connection.status === 'ready' && connection.stream?.writable === true;
}

/** host:port of a connection, for error messages (never the password). */
export function redisAddress(redis: { options: { host?: string | undefined; port?: number | undefined } }): string {
  return `${redis.options.host ?? '127.0.0.1'}:${redis.options.port ?? 6379}`;
}

/**
 * Runs one request's Redis command. Its failure while the connection is down
 * (isRedisConnected) is REDIS_UNAVAILABLE, retryable, saying what cannot be
 * done (`what`, e.g. "lock blob-fetch:sha256:…"); any other is rethrown as it is.
 */
export async function redisCommand<T>(redis: Redis, what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (isRedisConnected(redis)) throw error;
    throw new CisternError('REDIS_UNAVAILABLE', `Redis at ${redisAddress(redis)} is unreachable: cannot ${what} now`, { retryable: true, cause: error });
  }
}
