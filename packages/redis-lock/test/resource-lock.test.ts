import { isCisternError } from '@cistern/errors';
import { startOwnRedis } from '@cistern/testkit';
import { Redis, type RedisOptions } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { ResourceLocks } from '../src/index.ts';

/** As @cistern/queue's createRedis connects (this package does not depend on it). */
const createRedis = (url: string, options: RedisOptions) => new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, ...options });

describe('resource locks', () => {
  it('report the lock lost when Redis stays unreachable past the TTL', async () => {
    const server = await startOwnRedis();
    const redis = createRedis(server.url, { maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => 200 });
    redis.on('error', () => undefined);
    try {
      for (let i = 0; i < 50 && redis.status !== 'ready'; i++) await new Promise((r) => setTimeout(r, 100));
      const locks = new ResourceLocks(redis, 'lock-test', 600);
      const held = await locks.acquire('repository:x', 'task-1');
      expect(held).not.toBeNull();
      expect(await locks.acquire('repository:x', 'task-2')).toBeNull();
      await new Promise((r) => setTimeout(r, 700));
      expect(held?.lost.aborted).toBe(false);
      await server.stop();
      const started = Date.now();
      await new Promise<void>((resolve) => held?.lost.addEventListener('abort', () => resolve()));
      expect(Date.now() - started).toBeLessThan(2000);
      expect(String(held?.lost.reason)).toMatch(/could not be renewed for 600 ms/);
    } finally {
      redis.disconnect();
      await server.stop();
    }
  });

  it('report the lock lost as soon as the connection is back from a Redis that restarted empty', async () => {
    const server = await startOwnRedis();
    const redis = createRedis(server.url, { retryStrategy: () => 100 });
    redis.on('error', () => undefined);
    try {
      for (let i = 0; i < 50 && redis.status !== 'ready'; i++) await new Promise((r) => setTimeout(r, 100));
      // Renewed every 10 s: only the reconnect itself can tell in time that the key is gone.
      const held = await new ResourceLocks(redis, 'lock-test', 30_000).acquire('repository:y', 'task-1');
      server.server.process.kill('SIGKILL');
      await new Promise((r) => setTimeout(r, 500));
      const lost = new Promise<void>((resolve) => held?.lost.addEventListener('abort', () => resolve()));
      const started = Date.now();
      await server.start();
      await lost;
      expect(Date.now() - started).toBeLessThan(3000);
      expect(String(held?.lost.reason)).toMatch(/lock on repository:y was lost/);
    } finally {
      redis.disconnect();
      await server.stop();
    }
  });

  it('reject with REDIS_UNAVAILABLE at once on a fail-fast connection while Redis is down, and lock again once it is back', async () => {
    const server = await startOwnRedis();
    // As the registry connects: no offline queue, no command sent again after a drop.
    const redis = createRedis(server.url, { maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => 100 });
    redis.on('error', () => undefined);
    try {
      for (let i = 0; i < 50 && redis.status !== 'ready'; i++) await new Promise((r) => setTimeout(r, 100));
      const locks = new ResourceLocks(redis, 'lock-test', 30_000);
      server.server.process.kill('SIGKILL');
      await new Promise((resolve) => server.server.process.once('exit', resolve));
      for (const attempt of [() => locks.acquire('blob-fetch:a', 'pull-1'), () => locks.holder('blob-fetch:a')]) {
        const started = Date.now();
        const failure = await attempt().then(
          () => undefined,
          (error: unknown) => error,
        );
        expect(Date.now() - started).toBeLessThan(500);
        expect(isCisternError(failure, 'REDIS_UNAVAILABLE') && failure.retryable).toBe(true);
        expect((failure as Error).message).toBe(`Redis at 127.0.0.1:${server.port} is unreachable: cannot lock blob-fetch:a now`);
      }
      await server.start();
      for (let i = 0; i < 50 && redis.status !== 'ready'; i++) await new Promise((r) => setTimeout(r, 100));
      const held = await locks.acquire('blob-fetch:a', 'pull-1');
      expect(await locks.holder('blob-fetch:a')).toBe('pull-1');
      await held?.release();
    } finally {
      redis.disconnect();
      await server.stop();
    }
  });
});
