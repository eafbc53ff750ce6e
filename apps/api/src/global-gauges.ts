import type { PrismaClient } from '@cistern/db';
import type { DependencyWatch } from '@cistern/dependency-watch';
import { exportLastSyncSuccess, exportStorageTotals } from '@cistern/domain';
import { exportQueueJobs } from '@cistern/queue';
import type { Queue } from 'bullmq';

/**
 * The gauges read from Redis and PostgreSQL (queue jobs, storage totals,
 * each repository's last successful sync), exported by the API process
 * only, so that scraping several workers never duplicates them. An API
 * built again in the same process reads them from its own queues and
 * database until it stops. Resolves once the storage totals are first read.
 */
export async function exportGlobalGauges(deps: { prisma: PrismaClient; queues: readonly Queue[]; redisWatch: DependencyWatch }): Promise<() => void> {
  const stops = [exportQueueJobs(deps.queues, deps.redisWatch), exportLastSyncSuccess(deps.prisma), await exportStorageTotals(deps.prisma)];
  return () => {
    for (const stop of stops) stop();
  };
}
