import { randomBytes } from 'node:crypto';
import { startApi, type RunningApi } from '@cistern/api';
import { createLogger, envSchema } from '@cistern/config';
import type { Database } from '@cistern/db';
import { createRedisWatch } from '@cistern/queue';
import { FilesystemBlobStore } from '@cistern/storage';
import { TEST_REDIS_URL } from '@cistern/testkit';

/** The admin token the bench API takes (`Authorization: Bearer <it>`). */
export const BENCH_ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';

/**
 * A real API for a bench, on an open database: settings parsed as a start
 * parses them, keys under `redisPrefix` in the test Redis, blobs under
 * `<scratch>/storage`, logs at warn. Listens on a free port; `close` stops it.
 */
export async function startBenchApi(options: { db: Database; databaseUrl: string; redisPrefix: string; scratch: string }): Promise<RunningApi> {
  const config = envSchema.parse({
    DATABASE_URL: options.databaseUrl,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: options.redisPrefix,
    DATA_DIR: options.scratch,
    CISTERN_ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
    LOG_LEVEL: 'warn',
  });
  const logger = createLogger(config);
  const storage = new FilesystemBlobStore(`${options.scratch}/storage`);
  await storage.assertWritable();
  const resources = {
    config,
    logger,
    db: options.db,
    storage,
    secretKey: randomBytes(32),
    redisWatch: createRedisWatch(logger, config.redisUrl),
    close: async () => undefined,
  };
  return startApi(resources, { port: 0 });
}
