import type { PrismaClient, Task } from '@cistern/db';
import type { TaskParamsOf, TaskService } from '@cistern/queue';
import { STORAGE_RESOURCE } from '@cistern/storage-lifecycle';
import { assertExists } from '../shared/references.ts';
import type { TaskKindName, TaskKinds } from '../task-kinds.ts';

/** Tasks over the whole store, queued through the TaskService; one runs at a time (they share a resource). */
export interface StorageTaskService {
  /** An orphan cleanup; params as the `orphan-cleanup` kind takes them (defaults applied by the worker). */
  cleanupOrphans(params: StorageTaskParams<'orphan-cleanup'>): Promise<Task>;
  /**
   * A reclaim of the listed repositories' old versions; params as the
   * `reclaim-space` kind takes them. Each repository must exist
   * (INVALID_REFERENCE naming those that do not, detail path `repositories`).
   */
  reclaimSpace(params: StorageTaskParams<'reclaim-space'>): Promise<Task>;
}

type StorageTaskParams<N extends TaskKindName> = TaskParamsOf<TaskKinds, N>;

/** The StorageTaskService, queueing through `tasks`. */
export function storageTaskService({ prisma, tasks }: { prisma: PrismaClient; tasks: TaskService<TaskKinds> }): StorageTaskService {
  return {
    cleanupOrphans: async (params) => (await tasks.create({ kind: 'orphan-cleanup', params, resource: STORAGE_RESOURCE })).task,
    reclaimSpace: async (params) => {
      await assertExists(prisma, 'repository', params.repositories, 'repositories');
      return (await tasks.create({ kind: 'reclaim-space', params, resource: STORAGE_RESOURCE })).task;
    },
  };
}
