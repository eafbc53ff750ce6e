import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A key prefix of its own per test file, so BullMQ queues and locks never meet; deleted afterwards. */
export function createTestRedisPrefix(): { prefix: string; cleanup(): Promise<void> } {
  const prefix = `cistern-test-${randomBytes(5).toString('hex')}`;
  return {
    prefix,
    cleanup: () => deleteRedisKeys(TEST_REDIS_URL, `${prefix}:*`),
  };
}

/** Deletes the keys matching `pattern` (never a flush: the Redis is shared). */
export async function deleteRedisKeys(url: string, pattern: string): Promise<void> {
  const redis = new Redis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
