import type { Task } from '@cistern/db';
import type { TaskParamsOf, TaskService } from '@cistern/queue';
import { STORAGE_RESOURCE } from '@cistern/storage-lifecycle';
import type { TaskKindName, TaskKinds } from '../task-kinds.ts';

/** Tasks over the whole store, queued through the TaskService; one runs at a time (they share a resource). */
export interface StorageTaskService {
  /** An orphan cleanup; params as the `orphan-cleanup` kind takes them (defaults applied by the worker). */
  cleanupOrphans(params: StorageTaskParams<'orphan-cleanup'>): Promise<Task>;
}

type StorageTaskParams<N extends TaskKindName> = TaskParamsOf<TaskKinds, N>;

/** The StorageTaskService, queueing through `tasks`. */
export function storageTaskService({ tasks }: { tasks: TaskService<TaskKinds> }): StorageTaskService {
  return {
    cleanupOrphans: async (params) => (await tasks.create({ kind: 'orphan-cleanup', params, resource: STORAGE_RESOURCE })).task,
  };
}
