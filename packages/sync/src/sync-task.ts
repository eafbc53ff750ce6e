import type { PrismaClient } from '@cistern/db';
import { defineTask, TaskError } from '@cistern/queue';
import { loadPolicy } from '@cistern/settings';
import type { BlobStore } from '@cistern/storage';
import { clientForRemote } from '@cistern/upstream';
import { z } from 'zod';
import { Report } from './sync-progress.ts';
import { syncRepository } from './sync-repository.ts';

/** The params of a `sync` task: which repository, from which remote, mirror or additive. */
export const syncParamsSchema = z.object({ repositoryId: z.uuid(), remoteId: z.uuid(), mirror: z.boolean() }).strict();

/** What the `sync` task needs from the process. */
export interface SyncTaskDeps {
  prisma: PrismaClient;
  storage: BlobStore;
  secretKey: Buffer;
  maxManifestBytes: number;
  /** The href a task names a version it wrote by in `createdResources` (the API's, passed in). */
  versionHref(repositoryId: string, version: number): string;
}

/** The `sync` task: one code path for requested and scheduled syncs. */
export const syncTask = defineTask({
  name: 'sync',
  params: syncParamsSchema,
  handler(deps: SyncTaskDeps) {
    return async (ctx) => {
      const { repositoryId, remoteId, mirror } = ctx.params;
      const remote = await deps.prisma.remote.findUnique({ where: { id: remoteId } });
      if (!remote) throw new TaskError('REMOTE_UNKNOWN', `remote ${remoteId} no longer exists`);
      const client = clientForRemote(remote, deps.secretKey, {
        signal: ctx.signal,
        onRateLimit: (info) => ctx.report(Report.rateLimit, { message: `The upstream limits the request rate: ${JSON.stringify(info)}.` }),
      });
      const { policy: mediaTypePolicy } = await loadPolicy(deps.prisma);
      const result = await syncRepository(
        { prisma: deps.prisma, storage: deps.storage, client, progress: ctx },
        { repositoryId, remote, mirror, mediaTypePolicy, maxManifestBytes: deps.maxManifestBytes },
      );
      return {
        createdResources: result.version === null ? [] : [deps.versionHref(repositoryId, result.version)],
        warnings: result.warnings,
      };
    };
  },
});
