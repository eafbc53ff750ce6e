import { orphanCleanupTask, reclaimSpaceTask } from '@cistern/storage-lifecycle';
import { repositoryTaskKinds } from './repositories/repository-task-kinds.ts';

/**
 * Every kind of task the API queues, as their packages define them: their
 * schemas check params and shape the API's request bodies. The worker runs
 * the same definitions.
 */
export const taskKinds = [...repositoryTaskKinds, orphanCleanupTask, reclaimSpaceTask] as const;

/** One of the kinds of task. */
export type TaskKinds = (typeof taskKinds)[number];

/** The name of one of the kinds of task. */
export type TaskKindName = TaskKinds['name'];
