import { isRedisConnected, type RedisConnectionState } from '@cistern/redis-lock';
import type { Queue } from 'bullmq';
import { redisAddress, RedisUnavailableError } from './redis.ts';

// Helpers for queues on producer connections (producerConnectionOptions): no offline queue, so no command waits for Redis.

type QueueConnection = RedisConnectionState & { options: { host?: string; port?: number; enableOfflineQueue?: boolean }; disconnect(): void };

/**
 * The queue's connection; undefined when its first connect gave up. BullMQ
 * hands it out once connected: a queue made while Redis was down waits here
 * for it (processes check Redis before they make their queues).
 */
async function connectionOf(queue: Queue): Promise<QueueConnection | undefined> {
  // BullMQ's wrapper passes the ioredis client's own fields through, `stream` among them.
  return queue
    .getBackend()
    .client.then((client) => client as QueueConnection)
    .catch(() => undefined);
}

function unreachable(connection: QueueConnection | undefined, what: string, cause?: unknown): RedisUnavailableError {
  const redis = connection ? `Redis at ${redisAddress(connection)}` : 'Redis';
  return new RedisUnavailableError(`${redis} is unreachable: cannot ${what} now; try again once it is back`, { cause });
}

const reachable = (connection: QueueConnection | undefined): connection is QueueConnection => connection !== undefined && isRedisConnected(connection);

/**
 * Rejects at once with a RedisUnavailableError (retryable) while a producer
 * connection is down, so that a request refuses before it records anything.
 * A queue whose commands wait for Redis (redisConnectionOptions: a worker's)
 * is let through, to wait. `what` completes "cannot … now" in the message,
 * e.g. "queue the task".
 */
export async function assertQueueReachable(queue: Queue, what: string): Promise<void> {
  const connection = await connectionOf(queue);
  if (connection && connection.options.enableOfflineQueue !== false) return;
  if (!reachable(connection)) throw unreachable(connection, what);
}

/**
 * Runs `operation` on `queue`; a failure while the queue's connection is down
 * (before or during it: isRedisConnected) rejects as a RedisUnavailableError,
 * any other as it is. On a producer connection this answers at once; on one
 * that waits for Redis (redisConnectionOptions) the operation waits too.
 */
export async function onReachableQueue<T>(queue: Queue, what: string, operation: () => Promise<T>): Promise<T> {
  await assertQueueReachable(queue, what);
  try {
    return await operation();
  } catch (error) {
    const connection = await connectionOf(queue);
    throw reachable(connection) ? error : unreachable(connection, what, error);
  }
}

/**
 * Closes a queue. While Redis is unreachable a producer connection cannot
 * send its QUIT, and BullMQ would leave it reconnecting forever without
 * listeners (a stack trace on stderr per attempt): it is dropped instead.
 */
export async function closeQueue(queue: Queue): Promise<void> {
  await queue.close().catch(() => undefined);
  const connection = await connectionOf(queue);
  if (connection && connection.status !== 'end') connection.disconnect();
}
