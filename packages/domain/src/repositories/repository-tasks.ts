import type { PrismaClient, Task } from '@cistern/db';
import { CisternError } from '@cistern/errors';
import { repositoryResource, type TaskParamsOf, type TaskService } from '@cistern/queue';
import { assertExists } from '../shared/references.ts';
import { findRepository } from './find-repository.ts';
import { assertSyncable } from './sync-source.ts';
import type { SyncRequest } from './repository-input.ts';
import type { ContentAction, RepositoryTaskKind } from './repository-task-kinds.ts';

type ActionParams<K extends ContentAction> = Omit<TaskParamsOf<RepositoryTaskKind, K>, 'repositoryId'>;

/**
 * Tasks that change a repository, queued through the TaskService (a task row,
 * then its job). An unknown repository throws NOT_FOUND; an unreachable Redis
 * REDIS_UNAVAILABLE (see TaskService.create).
 */
export interface RepositoryTaskService {
  /**
   * A sync from `request.remote`, else the repository's own remote (NO_REMOTE
   * when it has none; INVALID_REFERENCE, detail path `remote`, for a remote
   * that does not exist; UPSTREAM_NAME_MISSING for a remote of many upstream
   * repositories while the repository names none). A sync identical to one still waiting returns that
   * task; a dry-run and a real sync are never identical.
   */
  sync(id: string, request: SyncRequest): Promise<Task>;
  /** A content action on the repository; a copy's source must exist (INVALID_REFERENCE, detail path `sourceRepositoryId`). */
  act<K extends ContentAction>(id: string, kind: K, params: ActionParams<K>): Promise<Task>;
}

/** The RepositoryTaskService over `prisma`, queueing through `tasks`. */
export function repositoryTaskService({ prisma, tasks }: { prisma: PrismaClient; tasks: TaskService<RepositoryTaskKind> }): RepositoryTaskService {
  return {
    sync: async (id, request) => {
      const repo = await findRepository(prisma, id);
      const remoteId = request.remote ?? repo.remoteId;
      if (!remoteId) throw new CisternError('NO_REMOTE', `give a remote: repository "${repo.name}" has no default remote`);
      await assertSyncable(prisma, repo, remoteId);
      const { task } = await tasks.create({
        kind: 'sync',
        // dryRun only when true: a dry-run never equals, so never dedupes with, a real sync.
        params: { repositoryId: repo.id, remoteId, mirror: request.mirror, ...(request.dryRun ? { dryRun: true as const } : {}) },
        resource: repositoryResource(repo.id),
        dedupe: true,
      });
      return task;
    },
    async act<K extends ContentAction>(id: string, kind: K, params: ActionParams<K>) {
      const repositoryId = (await findRepository(prisma, id)).id;
      if (kind === 'copy') {
        const { sourceRepositoryId } = params as ActionParams<K> & ActionParams<'copy'>;
        await assertExists(prisma, 'repository', sourceRepositoryId, 'sourceRepositoryId');
      }
      const full = { ...params, repositoryId } as TaskParamsOf<RepositoryTaskKind, K> & { repositoryId: string };
      const { task } = await tasks.create({ kind, params: full, resource: repositoryResource(repositoryId) });
      return task;
    },
  };
}
