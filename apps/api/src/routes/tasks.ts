import type { SyncPlanEntry as SyncPlanEntryRow, Task as TaskRow } from '@cistern/db';
import type { z } from 'zod';
import { hrefOf, type ApiContext } from '../context.ts';
import { toPage } from '../http/pagination.ts';
import type { RouteTable } from '../http/route-table.ts';
import { IdParams, page } from '../schemas/common.ts';
import { PLAN_KINDS, SyncPlanEntry, SyncPlanQuery } from '../schemas/sync-plan.ts';
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
    result: row.result as z.input<typeof Task>['result'],
    worker: row.worker,
    createdAt: row.createdAt.toISOString(),
    startedAt: iso(row.startedAt),
    finishedAt: iso(row.finishedAt),
    updatedAt: row.updatedAt.toISOString(),
  };
}

function toPlanEntry(row: SyncPlanEntryRow): z.input<typeof SyncPlanEntry> {
  return {
    change: row.change as z.input<typeof SyncPlanEntry>['change'],
    name: row.name,
    digest: row.digest,
    from: row.fromDigest,
    reason: row.reason,
    size: row.size === null ? null : Number(row.size),
  };
}

export function taskRoutes(routes: RouteTable, ctx: ApiContext): void {
  routes.add(
    { method: 'get', path: '/tasks', tag: TAG, summary: 'List tasks, newest first', query: TaskListQuery, status: 200, response: page(Task) },
    async ({ query, req }) => toPage(req, query, await ctx.tasks.list(query, query), toTask),
  );
  routes.add({ method: 'get', path: '/tasks/{id}', tag: TAG, summary: 'Show a task', params: IdParams, status: 200, response: Task }, async ({ params }) =>
    toTask(await ctx.tasks.get(params.id)),
  );
  routes.add(
    {
      method: 'get',
      path: '/tasks/{id}/plan',
      tag: TAG,
      summary: "Page through a sync dry-run's plan",
      description:
        'The entries of one kind, in the order the dry-run decided them; its result holds the counts. Only the latest dry-run of a repository keeps its entries: an earlier one answers an empty page. 404 for a task that is no dry-run.',
      params: IdParams,
      query: SyncPlanQuery,
      status: 200,
      response: page(SyncPlanEntry),
    },
    async ({ params, query, req }) => toPage(req, query, await ctx.tasks.plan(params.id, PLAN_KINDS[query.kind], query), toPlanEntry),
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
    async ({ params }) => toTask(await ctx.tasks.cancel(params.id)),
  );
}
