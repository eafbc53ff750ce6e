import { randomUUID } from 'node:crypto';
import type { Logger } from '@cistern/config';
import { isCisternError } from '@cistern/errors';
import { writeRepositoryVersion, type PrismaClient, type VersionChanges } from '@cistern/db';
import { redisCommand, type ResourceLocks } from '@cistern/redis-lock';
import type { Redis } from 'ioredis';
import { pullThroughFlushes } from './pull-through-metrics.ts';

export interface CacheFlusherOptions {
  prisma: PrismaClient;
  redis: Redis;
  /** `<REDIS_PREFIX>`: the once-per-interval marks are `<prefix>:pull-through:flushed:<repository id>`. */
  prefix: string;
  locks: ResourceLocks;
  logger: Logger;
  /** PULL_THROUGH_FLUSH_MS. */
  intervalMs: number;
}

/** Pending rows one flush writes into one repository's version, at most; the rest go in the next. */
const MAX_ROWS = 50_000;
/** Repositories one flush visits, at most; the rest wait for the next. */
const MAX_REPOSITORIES = 1000;

/** A pending row as the flush reads it. */
interface PendingRow {
  id: bigint;
  manifestDigest: string | null;
  tag: string | null;
}

/**
 * The background writer of pull-through caches, one in every registry
 * process: every `intervalMs` it turns each cache repository's pending writes
 * into one new version (through the one version writer) and deletes the rows
 * it wrote (those it read, by id). At most one version per repository per interval across all
 * processes: a Redis mark set only if absent, for an interval, says a flush of
 * the repository ran; a Redis lock keeps two flushes of one repository apart.
 * A failed flush leaves its rows for the next one (rewriting rows already
 * written changes nothing).
 */
export class CacheFlusher {
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<number> | undefined;

  constructor(private readonly options: CacheFlusherOptions) {}

  start(): void {
    this.timer = setInterval(() => {
      // A flush slower than the interval is not run twice at once.
      this.inFlight ??= this.flush().finally(() => (this.inFlight = undefined));
    }, this.options.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a flush in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.inFlight;
  }

  /** One pass over every repository with pending rows; never rejects (failures are logged and counted). Versions written. */
  async flush(): Promise<number> {
    const { prisma, logger } = this.options;
    let written = 0;
    try {
      // GROUP BY in SQL: Prisma's `distinct` reads every pending row and dedups in memory. The oldest pending first, so none starves.
      const repositories = await prisma.pendingCacheWrite.groupBy({ by: ['repositoryId'], orderBy: { _min: { id: 'asc' } }, take: MAX_REPOSITORIES });
      for (const { repositoryId } of repositories) {
        try {
          if (await this.flushRepository(repositoryId)) written += 1;
        } catch (error) {
          // Redis down fails every repository alike: one line for the pass, not one per repository.
          if (isCisternError(error, 'REDIS_UNAVAILABLE')) throw error;
          pullThroughFlushes.inc({ outcome: 'failed' });
          logger.warn({ err: error, repositoryId }, 'pull-through cache flush failed; its pending writes stay for the next');
        }
      }
    } catch (error) {
      pullThroughFlushes.inc({ outcome: 'failed' });
      logger.warn({ err: error }, 'pull-through cache flush failed; pending writes stay for the next');
    }
    return written;
  }

  /** True when a version was written. */
  private async flushRepository(repositoryId: string): Promise<boolean> {
    const { prisma, redis, prefix, locks, intervalMs } = this.options;
    const mark = `${prefix}:pull-through:flushed:${repositoryId}`;
    const first = await redisCommand(redis, 'mark a pull-through flush', () => redis.set(mark, '1', 'PX', intervalMs, 'NX'));
    if (first === null) return false;
    const lock = await locks.acquire(`pull-through:flush:${repositoryId}`, randomUUID());
    if (!lock) return false;
    try {
      const rows = await prisma.pendingCacheWrite.findMany({
        where: { repositoryId },
        orderBy: { id: 'asc' },
        take: MAX_ROWS,
        select: { id: true, manifestDigest: true, tag: true },
      });
      if (rows.length === 0) return false;
      const version = await writeRepositoryVersion(prisma, repositoryId, pendingChanges(rows));
      // Deleted only once the version holds them: until then they are what protects and serves their manifests.
      // By id, never `id <= last`: a pull's row may have taken a lower id and committed after the read, and is in no version.
      const ids = rows.map((row) => row.id.toString());
      await prisma.$executeRaw`DELETE FROM "PendingCacheWrite" WHERE id = ANY(${ids}::bigint[])`;
      pullThroughFlushes.inc({ outcome: version ? 'written' : 'unchanged' });
      return version !== null;
    } finally {
      await lock.release().catch(() => undefined);
    }
  }
}

/** The rows in order as one change: every manifest added, each tag set to its last target or removed by its last row. */
function pendingChanges(rows: readonly PendingRow[]): VersionChanges {
  const manifests = new Set<string>();
  const tags = new Map<string, string | null>();
  for (const row of rows) {
    if (row.manifestDigest !== null) manifests.add(row.manifestDigest);
    if (row.tag !== null) tags.set(row.tag, row.manifestDigest);
  }
  const addTags: [string, string][] = [];
  const removeTags: string[] = [];
  for (const [tag, digest] of tags) {
    if (digest === null) removeTags.push(tag);
    else addTags.push([tag, digest]);
  }
  return { addManifests: manifests, addTags, removeTags };
}
