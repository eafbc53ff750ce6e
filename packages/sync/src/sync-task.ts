import type { PrismaClient } from '@cistern/db';
import { repositoryVersionHref, TaskError, type TaskHandler } from '@cistern/queue';
import { loadPolicy } from '@cistern/settings';
import type { BlobStore } from '@cistern/storage';
import { clientForRemote } from './remote-client.ts';
import { Report } from './sync-progress.ts';
import { syncRepository } from './sync-repository.ts';

export interface SyncTaskDeps {
  prisma: PrismaClient;
  storage: BlobStore;
  secretKey: Buffer;
  maxManifestBytes: number;
}

/** The `sync` task: one code path for requested and scheduled syncs. */
export function syncTaskHandler(deps: SyncTaskDeps): TaskHandler<'sync'> {
  return async (ctx) => {
    const { repositoryId, remoteId, mirror } = ctx.params;
    const remote = await deps.prisma.remote.findUnique({ where: { id: remoteId } });
    if (!remote) throw new TaskError('REMOTE_UNKNOWN', `remote ${remoteId} no longer exists`);
    const client = clientForRemote(remote, deps.secretKey, {
      signal: ctx.signal,
      onRateLimit: (info) => ctx.report(Report.rateLimit, { message: `upstream rate limit: ${JSON.stringify(info)}` }),
    });
    const { policy: mediaTypePolicy } = await loadPolicy(deps.prisma);
    const result = await syncRepository(
      { prisma: deps.prisma, storage: deps.storage, client, progress: ctx },
      { repositoryId, remote, mirror, mediaTypePolicy, maxManifestBytes: deps.maxManifestBytes },
    );
    return {
      createdResources: result.version === null ? [] : [repositoryVersionHref(repositoryId, result.version)],
      warnings: result.warnings,
    };
  };
}
