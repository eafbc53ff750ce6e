import type { PrismaClient } from '@cistern/db';
import { defineTask, type ParamsScheduledKind } from '@cistern/queue';
import type { BlobStore } from '@cistern/storage';
import { z } from 'zod';
import { cleanupOrphans } from './orphan-cleanup.ts';
import { reclaimSpace, type ReclaimFigures } from './reclaim-space.ts';

/** The resource storage tasks lock: one cleanup or reclaim at a time. */
export const STORAGE_RESOURCE = 'storage';

/** Minutes a row is kept after a writer last relied on it, when a request names none: a day, as in Pulp. */
const DEFAULT_PROTECTION_MINUTES = 1440;

/** The params of an `orphan-cleanup` task. */
export const orphanCleanupParamsSchema = z
  .object({
    protectionTimeMinutes: z
      .number()
      .int()
      .min(0)
      .max(525_600)
      .default(DEFAULT_PROTECTION_MINUTES)
      .describe('content a writer relied on this recently (minutes) is kept; 0 keeps only what syncs and fetches in flight hold'),
    dryRun: z.boolean().default(false).describe('count what would be removed, remove nothing'),
  })
  .strict();

/** The params of a `reclaim-space` task. */
export const reclaimSpaceParamsSchema = z
  .object({
    repositories: z
      .array(z.uuid())
      .min(1)
      .max(1000)
      .describe("ids of the repositories whose old versions give up their blobs' files (the rows stay: a pull fetches them from the remote again)"),
    keepVersions: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .default(1)
      .describe('each repository keeps the files of its newest this many versions, and of every version a distribution pins'),
  })
  .strict();

/** What the storage tasks need from the process. */
export interface StorageTaskDeps {
  prisma: PrismaClient;
  storage: BlobStore;
}

/** Report codes of the storage tasks' progress. */
const Report = { manifests: 'cleanup.manifests', blobs: 'cleanup.blobs', reclaimedBlobs: 'reclaim.blobs', reclaimedBytes: 'reclaim.bytes' } as const;

/** `orphan-cleanup`: removes (or counts) what no repository version needs; its result says what. */
export const orphanCleanupTask = defineTask({
  name: 'orphan-cleanup',
  params: orphanCleanupParamsSchema,
  dryRuns: true,
  handler({ prisma, storage }: StorageTaskDeps) {
    return async (ctx) => {
      const { protectionTimeMinutes, dryRun } = ctx.params;
      const verb = dryRun ? 'would be removed' : 'removed';
      const figures = await cleanupOrphans(prisma, storage, {
        protectionTimeMinutes,
        dryRun,
        signal: ctx.signal,
        onProgress: (soFar) => {
          ctx.report(Report.manifests, { message: `orphan manifests ${verb}`, done: soFar.manifests });
          ctx.report(Report.blobs, { message: `orphan blobs ${verb}`, done: soFar.blobs });
        },
      });
      ctx.report(Report.manifests, { message: `orphan manifests ${verb}`, done: figures.manifests, total: figures.manifests, state: 'completed' });
      ctx.report(Report.blobs, { message: `orphan blobs ${verb}`, done: figures.blobs, total: figures.blobs, state: 'completed' });
      // Partial files no live writer holds: counted by a dry run, removed by a real one.
      const temporary = await storage.sweepTemporary({ olderThanMs: protectionTimeMinutes * 60_000, dryRun });
      return { result: { dryRun, protectionTimeMinutes, ...figures, temporaryFiles: temporary.files, temporaryBytes: temporary.bytes } };
    };
  },
});

/** How a schedule starts orphan cleanups: with the params it holds, under the storage lock like any other. */
export const scheduledOrphanCleanup: ParamsScheduledKind<typeof orphanCleanupTask> = {
  kind: orphanCleanupTask,
  resource: () => STORAGE_RESOURCE,
};

/** `reclaim-space`: drops the files of blobs only old versions need, keeping their rows; its result says how many and how much. */
export const reclaimSpaceTask = defineTask({
  name: 'reclaim-space',
  params: reclaimSpaceParamsSchema,
  handler({ prisma, storage }: StorageTaskDeps) {
    return async (ctx) => {
      const { repositories, keepVersions } = ctx.params;
      const report = (soFar: ReclaimFigures, completed = false) => {
        const end = (n: number) => (completed ? { total: n, state: 'completed' as const } : {});
        ctx.report(Report.reclaimedBlobs, { message: 'blob files reclaimed', done: soFar.blobs, ...end(soFar.blobs) });
        ctx.report(Report.reclaimedBytes, { message: 'bytes freed', done: soFar.bytesFreed, ...end(soFar.bytesFreed) });
      };
      const figures = await reclaimSpace(prisma, storage, {
        repositoryIds: repositories,
        keepVersions,
        signal: ctx.signal,
        onProgress: (soFar) => report(soFar),
      });
      report(figures, true);
      return { result: { repositories, keepVersions, ...figures } };
    };
  },
});
