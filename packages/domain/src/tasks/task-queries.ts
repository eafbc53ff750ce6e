import type { PrismaClient, Task, TaskState } from '@cistern/db';
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
    cancel: async (id) => {
      if ((await prisma.task.count({ where: { id } })) === 0) throw notFound('task', id);
      return tasks.cancel(id);
    },
  };
}
