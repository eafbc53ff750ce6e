import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/**
 * Calls `recover` each time `redis` is ready again after losing its
 * connection (never at the first connect): Redis may have restarted empty.
 * Runs never overlap; reconnects during a run make one more run after it. A
 * failed run is logged and waits for the next reconnect. Returns a function
 * that stops listening.
 */
export function onRedisReconnect(redis: Redis, recover: () => Promise<void>, logger: Logger): () => void {
  let connectedBefore = redis.status === 'ready';
  let queued = false;
  let runs = Promise.resolve();
  const onReady = () => {
    if (!connectedBefore) {
      connectedBefore = true;
      return;
    }
    if (queued) return;
    queued = true;
    runs = runs.then(async () => {
      queued = false;
      try {
        await recover();
      } catch (error) {
        logger.error({ err: error }, 'could not put back what Redis lost; trying again at the next reconnect');
      }
    });
  };
  redis.on('ready', onReady);
  return () => {
    redis.off('ready', onReady);
  };
}
