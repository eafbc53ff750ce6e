import type { PrismaClient } from '@cistern/db';
import { defineTask, repositoryResource, TaskError } from '@cistern/queue';
import { loadPolicy } from '@cistern/settings';
import type { BlobStore } from '@cistern/storage';
import { clientForRemote } from '@cistern/upstream';
import { z } from 'zod';
import { Report } from './sync-progress.ts';
import { SyncPlan, type SyncPlanSummary } from './sync-plan.ts';
import { syncRepository } from './sync-repository.ts';
import { syncedUpstreamName } from './synced-upstream-name.ts';

/**
 * The params of a `sync` task: which repository, from which remote, mirror or
 * additive, and whether it is a dry-run. `dryRun` is present only when true, so
 * that a dry-run's params never equal a real sync's: a request is deduplicated
 * only with a waiting task of equal params.
 */
export const syncParamsSchema = z.object({ repositoryId: z.uuid(), remoteId: z.uuid(), mirror: z.boolean(), dryRun: z.literal(true).optional() }).strict();

/** What the `sync` task needs from the process. */
export interface SyncTaskDeps {
  prisma: PrismaClient;
  storage: BlobStore;
  secretKey: Buffer;
  maxManifestBytes: number;
  /** The href a task names a version it wrote by in `createdResources` (the API's, passed in). */
  versionHref(repositoryId: string, version: number): string;
  /** The href of a dry-run's plan entries (the API's, passed in). */
  planHref(taskId: string): string;
}

/** The `sync` task: one code path for requested and scheduled syncs, and for dry-runs (whose `result` is the plan's counts). */
export const syncTask = defineTask({
  name: 'sync',
  params: syncParamsSchema,
  dryRuns: true,
  handler(deps: SyncTaskDeps) {
    return async (ctx) => {
      const { repositoryId, remoteId, mirror, dryRun } = ctx.params;
      const remote = await deps.prisma.remote.findUnique({ where: { id: remoteId } });
      if (!remote) throw new TaskError('REMOTE_UNKNOWN', `remote ${remoteId} no longer exists`);
      const repository = await deps.prisma.repository.findUnique({ where: { id: repositoryId }, select: { upstreamName: true } });
      const upstreamName = syncedUpstreamName(repository ?? { upstreamName: null }, remote);
      const client = clientForRemote({ ...remote, upstreamName }, deps.secretKey, {
        signal: ctx.signal,
        logger: ctx.log,
        onRateLimit: (info) => ctx.report(Report.rateLimit, { message: `The upstream limits the request rate: ${JSON.stringify(info)}.` }),
      });
      const { policy: mediaTypePolicy } = await loadPolicy(deps.prisma);
      const plan = dryRun ? new SyncPlan(deps.prisma, ctx.taskId, repositoryResource(repositoryId)) : undefined;
      await plan?.clear();
      let result;
      try {
        result = await syncRepository(
          { prisma: deps.prisma, storage: deps.storage, client, progress: ctx, plan },
          { repositoryId, remote, mirror, mediaTypePolicy, maxManifestBytes: deps.maxManifestBytes },
        );
      } finally {
        // A failed or canceled run leaves batches queued: none may land once the task is final, or after a retry's clear().
        await plan?.close();
      }
      const summary: SyncPlanSummary | undefined = result.plan ? { dryRun: true, ...result.plan, plan: deps.planHref(ctx.taskId) } : undefined;
      return {
        createdResources: result.version === null ? [] : [deps.versionHref(repositoryId, result.version)],
        warnings: result.warnings,
        ...(summary ? { result: summary } : {}),
      };
    };
  },
});
