import { setTimeout as delay } from 'node:timers/promises';
import { isRedisConnected, redisAddress, type RedisConnectionState } from '@cistern/redis-lock';
import type { Queue } from 'bullmq';
import { producerConnectionOptions, RedisUnavailableError } from './redis.ts';
import { createScheduleQueue } from './schedules.ts';
import { createTaskQueue } from './task-queue.ts';

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

/** How long a start waits for the producer queues' first connection; the process checked Redis just before. */
const FIRST_CONNECT_MS = 10_000;

/**
 * The task and schedule queues a request path adds to, on producer
 * connections, connected before the caller serves: with the offline queue
 * off, a request in the first milliseconds would otherwise be refused while
 * Redis is fine. BullMQ's version check is skipped: with retries off, a drop
 * during it would leave the queue refusing for good (workers still check).
 * Rejects with a RedisUnavailableError after 10 s without a connection.
 */
export async function openProducerQueues(redisUrl: string, prefix: string): Promise<{ taskQueue: Queue; scheduleQueue: Queue }> {
  const connection = producerConnectionOptions(redisUrl);
  const taskQueue = createTaskQueue({ connection, prefix, skipVersionCheck: true });
  const scheduleQueue = createScheduleQueue({ connection, prefix, skipVersionCheck: true });
  const ready = Promise.all([taskQueue.waitUntilReady(), scheduleQueue.waitUntilReady()]).then(
    () => true,
    () => false,
  );
  if (!(await Promise.race([ready, delay(FIRST_CONNECT_MS, false, { ref: false })]))) {
    await Promise.all([closeQueue(taskQueue), closeQueue(scheduleQueue)]);
    throw new RedisUnavailableError(`the task queues did not connect to Redis within ${FIRST_CONNECT_MS} ms`);
  }
  return { taskQueue, scheduleQueue };
}

/**
 * Closes a queue. While Redis is unreachable a producer connection cannot
 * send its QUIT, and BullMQ would leave it reconnecting forever without
 * listeners (a stack trace on stderr per attempt): it is dropped instead.
 * A connection still being made is not waited for (it might never be).
 */
export async function closeQueue(queue: Queue): Promise<void> {
  await Promise.race([queue.close().catch(() => undefined), delay(1000, undefined, { ref: false })]);
  const connection = await Promise.race([connectionOf(queue), delay(100, undefined, { ref: false })]);
  if (connection && connection.status !== 'end') connection.disconnect();
}
