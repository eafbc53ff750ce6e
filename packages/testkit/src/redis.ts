import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { freePort } from './ports.ts';
import { spawnService, type ChildService } from './services.ts';

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

/** A redis-server of a test's own (nothing kept on disk); `start` runs it again on the same port after a test killed it. */
export interface OwnRedis {
  readonly port: number;
  readonly url: string;
  readonly server: ChildService;
  /** Starts redis-server again on the same port and resolves once it answers PING. */
  start(): Promise<ChildService>;
  stop(): Promise<void>;
}

const PING_DEADLINE_MS = 15_000;

async function answersPing(port: number, server: ChildService): Promise<void> {
  const deadline = Date.now() + PING_DEADLINE_MS;
  for (;;) {
    if (server.process.exitCode !== null || server.process.signalCode !== null) {
      throw new Error(`redis-server on port ${port} exited before it answered PING: ${server.output()}`);
    }
    const client = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      await client.connect();
      if ((await client.ping()) === 'PONG') return;
    } catch {
      // not listening yet
    } finally {
      client.disconnect();
    }
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING in ${PING_DEADLINE_MS} ms: ${server.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Starts a redis-server of the caller's own on a free port and resolves once
 * it answers PING, so that a process started next finds it up. A port taken
 * between choosing and binding (another test file chose it too) is retried
 * on a new one.
 */
export async function startOwnRedis(): Promise<OwnRedis> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const spawnOne = () => spawnService('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
    let server = spawnOne();
    try {
      await answersPing(port, server);
    } catch (error) {
      const bindFailed = server.process.exitCode !== null;
      await server.stop();
      if (bindFailed && attempt < 3) continue;
      throw error;
    }
    return {
      port,
      url: `redis://127.0.0.1:${port}`,
      get server() {
        return server;
      },
      async start() {
        server = spawnOne();
        await answersPing(port, server);
        return server;
      },
      stop: () => server.stop(),
    };
  }
}
