import type { Prisma, Task as TaskRow } from '@cistern/db';
import { repositoryResource } from '@cistern/queue';
import type { z } from 'zod';
import { hrefOf, type ApiContext } from '../context.ts';
import { notFound } from '../errors/api-error.ts';
import { pageArgs, toPage } from '../http/pagination.ts';
import type { RouteTable } from '../http/route-table.ts';
import { IdParams, page } from '../schemas/common.ts';
import { Task, TaskListQuery } from '../schemas/tasks.ts';

const TAG = 'Tasks';
const iso = (d: Date | null) => d?.toISOString() ?? null;

export function toTask(row: TaskRow): z.input<typeof Task> {
  return {
    id: row.id,
    href: hrefOf('tasks', row.id),
    kind: row.kind,
    state: row.state,
    resource: row.resource,
    params: row.params as Record<string, unknown>,
    progressReports: row.progressReports as z.input<typeof Task>['progressReports'],
    error: row.error as z.input<typeof Task>['error'],
    warnings: row.warnings as z.input<typeof Task>['warnings'],
    createdResources: row.createdResources,
    worker: row.worker,
    createdAt: row.createdAt.toISOString(),
    startedAt: iso(row.startedAt),
    finishedAt: iso(row.finishedAt),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export function taskRoutes(routes: RouteTable, ctx: ApiContext): void {
  routes.add(
    { method: 'get', path: '/tasks', tag: TAG, summary: 'List tasks, newest first', query: TaskListQuery, status: 200, response: page(Task) },
    async ({ query, req }) => {
      const resources = [query.resource, query.repository && repositoryResource(query.repository)].filter((r) => r !== undefined);
      const where: Prisma.TaskWhereInput = {
        state: query.state,
        kind: query.kind,
        AND: resources.map((resource) => ({ resource })),
      };
      const [count, rows] = await Promise.all([
        ctx.prisma.task.count({ where }),
        ctx.prisma.task.findMany({ where, orderBy: [{ createdAt: 'desc' }, { id: 'asc' }], ...pageArgs(query) }),
      ]);
      return toPage(req, query, count, rows.map(toTask));
    },
  );
  routes.add(
    { method: 'get', path: '/tasks/{id}', tag: TAG, summary: 'Show a task', params: IdParams, status: 200, response: Task },
    async ({ params }) => {
      const row = await ctx.prisma.task.findUnique({ where: { id: params.id } });
      if (!row) throw notFound('task', params.id);
      return toTask(row);
    },
  );
  routes.add(
    {
      method: 'post',
      path: '/tasks/{id}/cancel',
      tag: TAG,
      summary: 'Cancel a task',
      description: 'A waiting task is canceled at once; a running one becomes canceling and stops at its next safe point.',
      params: IdParams,
      status: 200,
      response: Task,
      errors: ['TASK_STATE_CONFLICT'],
    },
    async ({ params }) => {
      const exists = await ctx.prisma.task.count({ where: { id: params.id } });
      if (exists === 0) throw notFound('task', params.id);
      return toTask(await ctx.tasks.cancel(params.id));
    },
  );
}
