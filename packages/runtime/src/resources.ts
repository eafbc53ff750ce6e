import { createLogger, resolveSecretKey, type Config, type Logger } from '@cistern/config';
import { openDatabase, type Database } from '@cistern/db';
import type { DependencyWatch } from '@cistern/dependency-watch';
import { createRedisWatch } from '@cistern/queue';
import { FilesystemBlobStore, type BlobStore } from '@cistern/storage';
import { chooseRedis } from './choose-redis.ts';

/** What every Cistern process shares: opened once, checked at start, closed last. */
export interface Resources {
  config: Config;
  logger: Logger;
  db: Database;
  storage: BlobStore;
  secretKey: Buffer;
  /** The process's one Redis watch: every Redis connection of every app in the process reports to it, so an outage is said once. */
  redisWatch: DependencyWatch;
  close(): Promise<void>;
}

export interface OpenResourcesOptions {
  /** The all-in-one start may use PGlite and, with REDIS_URL unset, start its own redis-server; the separate ones may not. */
  allInOne: boolean;
}

/**
 * Checks what can be checked without side effects first (storage writable,
 * Redis answering), then opens and migrates the database, so a bad setting
 * fails before anything is created.
 */
export async function openResources(config: Config, options: OpenResourcesOptions): Promise<Resources> {
  const logger = createLogger(config);
  const storage = new FilesystemBlobStore(config.storageDir, { directIo: config.storageDirectIo });
  await storage.assertWritable();
  const redis = await chooseRedis(config, options.allInOne, logger);
  try {
    const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, allowEmbedded: options.allInOne, logger });
    // After the database: a start that fails there leaves no new key file behind.
    const secretKey = await resolveSecretKey(config, logger).catch(async (error: unknown) => {
      await db.close();
      throw error;
    });
    if (db.migrations.applied.length > 0) logger.info({ applied: db.migrations.applied }, 'applied database migrations');
    // Once nothing more can fail: a start that fails says so in one line.
    logger.info(redis.fields, redis.message);
    logger.info({ database: db.kind }, 'database ready');
    return {
      config,
      logger,
      db,
      storage,
      secretKey,
      redisWatch: createRedisWatch(logger, config.redisUrl),
      // Closed after every app (runMain closes in reverse order of start): an embedded Redis goes last.
      close: async () => {
        await db.close();
        await redis.stop?.();
        // Last: its heartbeat says this process may still be writing.
        await storage.close();
      },
    };
  } catch (error) {
    await redis.stop?.();
    throw error;
  }
}
