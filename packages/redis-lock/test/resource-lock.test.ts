import { freePort, spawnService } from '@cistern/testkit';
import { Redis, type RedisOptions } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { ResourceLocks } from '../src/index.ts';

/** As @cistern/queue's createRedis connects (this package does not depend on it). */
const createRedis = (url: string, options: RedisOptions) => new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, ...options });

describe('resource locks', () => {
  it('report the lock lost when Redis stays unreachable past the TTL', async () => {
    const port = await freePort();
    const server = spawnService('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
    const redis = createRedis(`redis://127.0.0.1:${port}`, { maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => 200 });
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
    const port = await freePort();
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    let server = spawnService('redis-server', args);
    const redis = createRedis(`redis://127.0.0.1:${port}`, { retryStrategy: () => 100 });
    redis.on('error', () => undefined);
    try {
      for (let i = 0; i < 50 && redis.status !== 'ready'; i++) await new Promise((r) => setTimeout(r, 100));
      // Renewed every 10 s: only the reconnect itself can tell in time that the key is gone.
      const held = await new ResourceLocks(redis, 'lock-test', 30_000).acquire('repository:y', 'task-1');
      server.process.kill('SIGKILL');
      await new Promise((r) => setTimeout(r, 500));
      server = spawnService('redis-server', args);
      const started = Date.now();
      await new Promise<void>((resolve) => held?.lost.addEventListener('abort', () => resolve()));
      expect(Date.now() - started).toBeLessThan(3000);
      expect(String(held?.lost.reason)).toMatch(/lock on repository:y was lost/);
    } finally {
      redis.disconnect();
      await server.stop();
    }
  });
});
