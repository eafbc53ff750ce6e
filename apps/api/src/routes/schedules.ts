import type { Prisma, Schedule as ScheduleRow } from '@cistern/db';
import { applySchedule, removeSchedule } from '@cistern/queue';
import type { z } from 'zod';
import { hrefOf, type ApiContext } from '../context.ts';
import { notFound } from '../errors/api-error.ts';
import { pageArgs, toPage } from '../http/pagination.ts';
import type { RouteTable } from '../http/route-table.ts';
import { IdParams, nameWhere, page } from '../schemas/common.ts';
import { nextRun, Schedule, ScheduleInput, ScheduleListQuery, SchedulePatch } from '../schemas/schedules.ts';
import { assertExists } from './references.ts';

const TAG = 'Schedules';

function toSchedule(row: ScheduleRow): z.input<typeof Schedule> {
  return {
    id: row.id,
    href: hrefOf('schedules', row.id),
    name: row.name,
    cron: row.cron,
    timezone: row.timezone,
    repository: row.repositoryId,
    remote: row.remoteId,
    mirror: row.mirror,
    enabled: row.enabled,
    nextRunAt: row.enabled ? nextRun(row.cron, row.timezone).toISOString() : null,
    lastTask: row.lastTaskId,
    lastTaskHref: row.lastTaskId ? hrefOf('tasks', row.lastTaskId) : null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

async function toData(ctx: ApiContext, input: ScheduleInput) {
  await assertExists(ctx, 'repository', input.repository, 'body.repository');
  if (input.remote) await assertExists(ctx, 'remote', input.remote, 'body.remote');
  const { repository, remote, ...fields } = input;
  return { ...fields, cron: fields.cron.trim(), repositoryId: repository, remoteId: remote };
}

async function findSchedule(ctx: ApiContext, id: string): Promise<ScheduleRow> {
  const row = await ctx.prisma.schedule.findUnique({ where: { id } });
  if (!row) throw notFound('schedule', id);
  return row;
}

/**
 * The row is written first, then its BullMQ job scheduler; if Redis refuses,
 * the row goes back to what it was so the table and the schedulers agree.
 */
async function writeThrough(ctx: ApiContext, write: () => Promise<ScheduleRow>, undo: (row: ScheduleRow) => Promise<unknown>) {
  const row = await write();
  try {
    await applySchedule(ctx.scheduleQueue, row);
  } catch (error) {
    await undo(row);
    throw error;
  }
  return toSchedule(row);
}

export function scheduleRoutes(routes: RouteTable, ctx: ApiContext): void {
  routes.add(
    { method: 'get', path: '/schedules', tag: TAG, summary: 'List schedules', query: ScheduleListQuery, status: 200, response: page(Schedule) },
    async ({ query, req }) => {
      const where: Prisma.ScheduleWhereInput = { ...nameWhere(query), repositoryId: query.repository, enabled: query.enabled };
      const [count, rows] = await Promise.all([
        ctx.prisma.schedule.count({ where }),
        ctx.prisma.schedule.findMany({ where, orderBy: { name: 'asc' }, ...pageArgs(query) }),
      ]);
      return toPage(req, query, count, rows.map(toSchedule));
    },
  );
  routes.add(
    {
      method: 'post',
      path: '/schedules',
      tag: TAG,
      summary: 'Create a schedule (a BullMQ job scheduler that queues syncs)',
      body: ScheduleInput,
      status: 201,
      response: Schedule,
      errors: ['ALREADY_EXISTS', 'INVALID_REFERENCE'],
    },
    async ({ body }) => {
      const data = await toData(ctx, body);
      return writeThrough(
        ctx,
        () => ctx.prisma.schedule.create({ data }),
        (row) => ctx.prisma.schedule.delete({ where: { id: row.id } }),
      );
    },
  );
  routes.add(
    { method: 'get', path: '/schedules/{id}', tag: TAG, summary: 'Show a schedule', params: IdParams, status: 200, response: Schedule },
    async ({ params }) => toSchedule(await findSchedule(ctx, params.id)),
  );
  for (const [method, body, summary] of [
    ['put', ScheduleInput, 'Replace a schedule'],
    ['patch', SchedulePatch, 'Update part of a schedule (e.g. enabled: false)'],
  ] as const) {
    routes.add(
      { method, path: '/schedules/{id}', tag: TAG, summary, params: IdParams, body, status: 200, response: Schedule, errors: ['ALREADY_EXISTS', 'INVALID_REFERENCE'] },
      async ({ params, body: given }) => {
        const stored = await findSchedule(ctx, params.id);
        const { id, name, cron, timezone, mirror, enabled, repositoryId, remoteId } = stored;
        const data = await toData(ctx, ScheduleInput.parse({ name, cron, timezone, mirror, enabled, repository: repositoryId, remote: remoteId, ...given }));
        return writeThrough(
          ctx,
          () => ctx.prisma.schedule.update({ where: { id }, data }),
          () => ctx.prisma.schedule.update({ where: { id }, data: { name, cron, timezone, mirror, enabled, repositoryId, remoteId } }),
        );
      },
    );
  }
  routes.add(
    { method: 'delete', path: '/schedules/{id}', tag: TAG, summary: 'Delete a schedule and its job scheduler', params: IdParams, status: 204 },
    async ({ params }) => {
      const row = await findSchedule(ctx, params.id);
      await removeSchedule(ctx.scheduleQueue, row.id);
      await ctx.prisma.schedule.delete({ where: { id: row.id } });
    },
  );
}
