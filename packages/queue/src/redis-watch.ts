import { DependencyWatch } from '@cistern/dependency-watch';
import { isNotConnectionError, type ConnectionOptions, type Queue, type Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { describeRedis } from './redis.ts';

/** Socket failures: Redis is not there, not that it refused a command. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/** Whether an error says Redis could not be reached (rather than that it answered with an error). */
function isRedisConnectionError(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  return (typeof code === 'string' && NETWORK_CODES.has(code)) || !isNotConnectionError(error);
}

/**
 * Reports an ioredis client's connection to `watch`: lost on a connection
 * error or a reconnect attempt, back when ready; forgotten once closed for
 * good. Other errors are logged, one line each.
 */
export function watchRedis(client: Redis, watch: DependencyWatch, logger: Logger): void {
  const connection = watch.connection();
  client.on('error', (error: Error) => {
    if (isRedisConnectionError(error)) connection.down(error);
    else logger.error({ err: error }, 'redis connection error');
  });
  client.on('reconnecting', () => connection.down());
  client.on('ready', () => connection.up());
  client.on('end', () => connection.forget());
}

/**
 * Reports a BullMQ queue's or worker's connections to `watch`. Without a
 * listener BullMQ prints every 'error' event's stack to stderr (one per
 * reconnect attempt during an outage); here connection errors go to the
 * watch and the others are logged, one JSON line each.
 */
export function watchBullmq(target: Queue | Worker, watch: DependencyWatch, logger: Logger): void {
  // One listener shape for both: the union's generic `on` signatures do not unify.
  const emitter = target as Queue;
  const connection = watch.connection();
  emitter.on('error', (error: Error) => {
    if (isRedisConnectionError(error)) connection.down(error);
    else logger.error({ err: error }, `${target.name} queue error`);
  });
  emitter.getBackend().on('ready', () => connection.up());
}

/** The watch of a process's Redis: one per process, which every connection to it reports to. */
export function createRedisWatch(logger: Logger, redisUrl: string): DependencyWatch {
  return new DependencyWatch({ logger, service: 'redis', where: describeRedis(redisUrl).url });
}

/** A watch for a BullMQ worker started without the process's (tests start them alone). */
export function ownRedisWatch(logger: Logger, connection: ConnectionOptions): DependencyWatch {
  const url = 'url' in connection && typeof connection.url === 'string' ? connection.url : 'redis://127.0.0.1:6379';
  return createRedisWatch(logger, url);
}
