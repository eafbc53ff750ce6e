import type { Schedule as ScheduleRow } from '@cistern/db';
import { nextRun, ScheduleInput, SchedulePatch } from '@cistern/domain';
import type { z } from 'zod';
import { hrefOf, type ApiContext } from '../context.ts';
import { toPage } from '../http/pagination.ts';
import type { RouteTable } from '../http/route-table.ts';
import { IdParams, page } from '../schemas/common.ts';
import { Schedule, ScheduleListQuery } from '../schemas/schedules.ts';

const TAG = 'Schedules';

function toSchedule(row: ScheduleRow): z.input<typeof Schedule> {
  const sync = row.kind === 'sync';
  return {
    id: row.id,
    href: hrefOf('schedules', row.id),
    kind: row.kind as z.input<typeof Schedule>['kind'],
    name: row.name,
    cron: row.cron,
    timezone: row.timezone,
    repository: row.repositoryId,
    remote: row.remoteId,
    mirror: sync ? row.mirror : null,
    // Written by the domain from the kind's params schema.
    params: sync ? null : (row.params as z.input<typeof Schedule>['params']),
    enabled: row.enabled,
    nextRunAt: row.enabled ? nextRun(row.cron, row.timezone).toISOString() : null,
    lastTask: row.lastTaskId,
    lastTaskHref: row.lastTaskId ? hrefOf('tasks', row.lastTaskId) : null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export function scheduleRoutes(routes: RouteTable, ctx: ApiContext): void {
  routes.add(
    { method: 'get', path: '/schedules', tag: TAG, summary: 'List schedules', query: ScheduleListQuery, status: 200, response: page(Schedule) },
    async ({ query, req }) => toPage(req, query, await ctx.schedules.list(query, query), toSchedule),
  );
  routes.add(
    {
      method: 'post',
      path: '/schedules',
      tag: TAG,
      summary: 'Create a schedule (a BullMQ job scheduler that queues a sync or an orphan cleanup on each tick)',
      description:
        'kind sync (the default: a body without kind) names its repository and may name remote and mirror; kind orphan-cleanup takes params, as POST /orphans/cleanup does, and names no repository.',
      body: ScheduleInput,
      status: 201,
      response: Schedule,
      errors: ['ALREADY_EXISTS', 'INVALID_REFERENCE', 'UPSTREAM_NAME_MISSING', 'REDIS_UNAVAILABLE'],
    },
    async ({ body }) => toSchedule(await ctx.schedules.create(body)),
  );
  routes.add(
    { method: 'get', path: '/schedules/{id}', tag: TAG, summary: 'Show a schedule', params: IdParams, status: 200, response: Schedule },
    async ({ params }) => toSchedule(await ctx.schedules.get(params.id)),
  );
  for (const [method, body, summary] of [
    ['put', ScheduleInput, 'Replace a schedule'],
    ['patch', SchedulePatch, 'Update part of a schedule (e.g. enabled: false)'],
  ] as const) {
    // A whole schedule given is every field updated: PUT replaces.
    routes.add(
      {
        method,
        path: '/schedules/{id}',
        tag: TAG,
        summary,
        params: IdParams,
        body,
        status: 200,
        response: Schedule,
        errors: ['ALREADY_EXISTS', 'INVALID_REFERENCE', 'UPSTREAM_NAME_MISSING', 'REDIS_UNAVAILABLE'],
      },
      async ({ params, body: given }) => toSchedule(await ctx.schedules.update(params.id, given)),
    );
  }
  routes.add(
    {
      method: 'delete',
      path: '/schedules/{id}',
      tag: TAG,
      summary: 'Delete a schedule and its job scheduler',
      params: IdParams,
      status: 204,
      errors: ['REDIS_UNAVAILABLE'],
    },
    async ({ params }) => ctx.schedules.delete(params.id),
  );
}
