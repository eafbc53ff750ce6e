import { createTestRedisPrefix, TEST_REDIS_URL } from '@cistern/testkit';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { coalesce, ResourceLocks, type Coalesced } from '../src/index.ts';

const prefix = createTestRedisPrefix();
// Two connections: two processes sharing one Redis.
const connections = [new Redis(TEST_REDIS_URL), new Redis(TEST_REDIS_URL)];
const locks = connections.map((redis) => new ResourceLocks(redis, prefix.prefix, 5000));

afterAll(async () => {
  await prefix.cleanup();
  for (const redis of connections) redis.disconnect();
});

/** A shared "store": what the work produced, readable by every caller. */
function job(store: Map<string, string>, resource: string, work: () => Promise<string>, counts: { waits: number }): Coalesced<string> {
  return {
    ready: async () => store.get(resource),
    work: async (lock) => {
      try {
        const value = await work();
        store.set(resource, value);
        return value;
      } finally {
        await lock.release();
      }
    },
    onWait: () => (counts.waits += 1),
    pollMs: 10,
    timeoutMs: 5000,
    timedOut: () => new Error('timed out'),
  };
}

describe('coalesce', () => {
  it('lets one caller work while the others, on any connection, wait and take its result', async () => {
    const store = new Map<string, string>();
    const counts = { waits: 0 };
    let runs = 0;
    const slow = async () => {
      runs += 1;
      await new Promise((resolve) => setTimeout(resolve, 200));
      return 'done';
    };
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => coalesce(locks[i % 2] as ResourceLocks, 'object-a', job(store, 'object-a', slow, counts))),
    );
    expect(results).toEqual(Array.from({ length: 10 }, () => 'done'));
    expect([runs, counts.waits]).toEqual([1, 9]);
  });

  it('lets a waiter take over when the holder failed, and returns what is already done without working', async () => {
    const store = new Map<string, string>();
    const counts = { waits: 0 };
    let runs = 0;
    const flaky = async () => {
      runs += 1;
      await new Promise((resolve) => setTimeout(resolve, 100));
      if (runs === 1) throw new Error('upstream failed');
      return 'second';
    };
    const [first, second] = await Promise.allSettled([
      coalesce(locks[0] as ResourceLocks, 'object-b', job(store, 'object-b', flaky, counts)),
      coalesce(locks[1] as ResourceLocks, 'object-b', job(store, 'object-b', flaky, counts)),
    ]);
    expect(first).toMatchObject({ status: 'rejected', reason: { message: 'upstream failed' } });
    expect(second).toMatchObject({ status: 'fulfilled', value: 'second' });
    expect(runs).toBe(2);
    expect(await coalesce(locks[0] as ResourceLocks, 'object-b', job(store, 'object-b', flaky, counts))).toBe('second');
    expect(runs).toBe(2);
  });
});
