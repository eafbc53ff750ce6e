import type { PrismaClient, SyncPlanEntry, SyncPlanKind, Task, TaskState } from '@cistern/db';
import { CisternError } from '@cistern/errors';
import { repositoryResource, type TaskService } from '@cistern/queue';
import { found, notFound } from '../shared/not-found.ts';
import { listPage, pageArgs, type Page, type PageRequest } from '../shared/paging.ts';

/** Filters of the task list; undefined parts filter nothing. */
export interface TaskFilter {
  state?: TaskState;
  kind?: string;
  /** What the task works on, e.g. `repository:<id>`. */
  resource?: string;
  /** Shorthand for resource = repository:<id>; with `resource` too, both must match. */
  repository?: string;
}

/**
 * What users read of tasks, and cancelling one. Unknown ids throw NOT_FOUND;
 * cancelling a finished task is the TaskService's TaskStateError.
 */
export interface TaskQueries {
  /** Newest first. */
  list(filter: TaskFilter, page: PageRequest): Promise<Page<Task>>;
  get(id: string): Promise<Task>;
  /** A waiting task is canceled at once; a running one becomes canceling. */
  cancel(id: string): Promise<Task>;
  /**
   * The entries of a sync dry-run's plan of one kind, in the order they were
   * decided; a dry-run still running shows what it planned so far, and one
   * that a later dry-run of its repository superseded shows nothing (only the
   * latest plan is kept). NOT_FOUND for a task that is no dry-run.
   */
  plan(id: string, kind: SyncPlanKind, page: PageRequest): Promise<Page<SyncPlanEntry>>;
}

/** The TaskQueries over `prisma`, cancelling through `tasks`. */
export function taskQueries({ prisma, tasks }: { prisma: PrismaClient; tasks: TaskService }): TaskQueries {
  return {
    list: async (filter, page) => {
      const resources = [filter.resource, filter.repository && repositoryResource(filter.repository)].filter((r) => r !== undefined);
      const where = { state: filter.state, kind: filter.kind, AND: resources.map((resource) => ({ resource })) };
      return listPage(prisma.task.count({ where }), prisma.task.findMany({ where, orderBy: [{ createdAt: 'desc' }, { id: 'asc' }], ...pageArgs(page) }));
    },
    get: async (id) => found(await prisma.task.findUnique({ where: { id } }), 'task', id),
    plan: async (id, kind, page) => {
      const task = found(await prisma.task.findUnique({ where: { id }, select: { kind: true, params: true } }), 'task', id);
      if (task.kind !== 'sync' || (task.params as { dryRun?: boolean }).dryRun !== true) {
        throw new CisternError('NOT_FOUND', `task ${id} has no plan: only a sync with dryRun makes one`);
      }
      const where = { taskId: id, kind };
      return listPage(prisma.syncPlanEntry.count({ where }), prisma.syncPlanEntry.findMany({ where, orderBy: { id: 'asc' }, ...pageArgs(page) }));
    },
    cancel: async (id) => {
      if ((await prisma.task.count({ where: { id } })) === 0) throw notFound('task', id);
      return tasks.cancel(id);
    },
  };
}
