import { openDatabase } from '@cistern/db';
import { createTestDatabase, createTestRedisPrefix, freePort, makeTempDir, removeDir, TEST_REDIS_URL } from '@cistern/testkit';
import { startProcess, waitForReady, type Started } from '../../test/processes.ts';

/** The base path of the bench's pull-through distribution: pulls go to `<host>/cache/<upstream repository>`. */
export const CACHE_BASE_PATH = 'cache';

export interface PullThroughCistern {
  /** `127.0.0.1:<port>` of the registry, for skopeo references. */
  host: string;
  /** The registry's log lines (level warn and above), for a failure message. */
  output(): string;
  /** Stops the registry, drops its database and Redis keys, removes its data dir. */
  stop(): Promise<void>;
}

/**
 * A Cistern registry process (as `npm run start:registry` runs it) over an
 * empty database, Redis prefix and data dir, serving one pull-through
 * distribution at `cache` of a remote of any repository of `upstreamUrl`.
 * Nothing is cached yet: its first pull is a first pull.
 */
export async function startPullThroughCistern(upstreamUrl: string): Promise<PullThroughCistern> {
  const database = await createTestDatabase();
  const redis = createTestRedisPrefix();
  const dataDir = await makeTempDir('bench-pull-through');
  let registry: Started | undefined;
  const stop = async () => {
    registry?.child.kill('SIGTERM');
    await registry?.exited;
    await database.drop();
    await redis.cleanup();
    await removeDir(dataDir);
  };
  try {
    // Opening migrates the database, so the rows exist before the registry starts on it.
    const db = await openDatabase({ databaseUrl: database.url, dataDir, allowEmbedded: false });
    try {
      const remote = await db.prisma.remote.create({ data: { name: 'upstream', url: upstreamUrl, upstreamName: null } });
      await db.prisma.distribution.create({ data: { name: 'cache', basePath: CACHE_BASE_PATH, remoteId: remote.id } });
    } finally {
      await db.close();
    }
    const port = await freePort();
    registry = startProcess('apps/registry/src/main.ts', {
      DATABASE_URL: database.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: redis.prefix,
      DATA_DIR: dataDir,
      REGISTRY_PORT: String(port),
      LOG_LEVEL: 'warn',
      MALLOC_ARENA_MAX: '2',
    });
    await waitForReady(`http://127.0.0.1:${port}/readyz`, { of: registry });
    const started = registry;
    return { host: `127.0.0.1:${port}`, output: () => started.output(), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
