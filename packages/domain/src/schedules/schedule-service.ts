import type { Prisma, PrismaClient, Schedule } from '@cistern/db';
import { onReachableQueue, removeSchedule } from '@cistern/queue';
import type { Queue } from 'bullmq';
import { nameWhere, type NameFilter } from '../shared/name-filter.ts';
import { found } from '../shared/not-found.ts';
import { listPage, pageArgs } from '../shared/paging.ts';
import { assertSyncable } from '../repositories/sync-source.ts';
import { invalidReference } from '../shared/references.ts';
import type { ResourceService } from '../shared/resource-service.ts';
import { ScheduleInput, type ScheduleKind, type SchedulePatch } from './schedule-input.ts';
import { writeThrough } from './schedule-write-through.ts';

/** Filters of the schedule list; undefined parts filter nothing. */
export interface ScheduleFilter extends NameFilter {
  kind?: ScheduleKind;
  repository?: string;
  enabled?: boolean;
}

/**
 * Schedules: a row each, and for each enabled one a BullMQ job scheduler kept
 * in step with it (written through: a refused scheduler undoes the row;
 * deleting removes the scheduler first). While Redis is unreachable, writes
 * and deletes change nothing and reject with REDIS_UNAVAILABLE at once. A sync schedule's repository or
 * remote that does not exist throws INVALID_REFERENCE (detail path
 * `repository` or `remote`), and one whose remote serves many upstream
 * repositories while the repository names none UPSTREAM_NAME_MISSING; other kinds keep their task params in `params`.
 */
export type ScheduleService = ResourceService<Schedule, ScheduleFilter, ScheduleInput, SchedulePatch>;

/** The ScheduleService over `prisma`, keeping job schedulers in `scheduleQueue`. */
export function scheduleService({ prisma, scheduleQueue }: { prisma: PrismaClient; scheduleQueue: Queue }): ScheduleService {
  const find = async (id: string) => found(await prisma.schedule.findUnique({ where: { id } }), 'schedule', id);
  const toData = async (input: ScheduleInput) => {
    const fields = { kind: input.kind, name: input.name, cron: input.cron.trim(), timezone: input.timezone, enabled: input.enabled };
    switch (input.kind) {
      case 'sync': {
        const repository = await prisma.repository.findUnique({ where: { id: input.repository }, select: { upstreamName: true, remoteId: true } });
        if (!repository) throw invalidReference('repository', [input.repository], 'repository');
        // Without any remote the tick skips, as it does when the repository's remote is removed later.
        const remoteId = input.remote ?? repository.remoteId;
        if (remoteId) await assertSyncable(prisma, repository, remoteId);
        return { ...fields, repositoryId: input.repository, remoteId: input.remote, mirror: input.mirror, params: {} };
      }
      case 'orphan-cleanup':
        return { ...fields, repositoryId: null, remoteId: null, mirror: false, params: input.params };
    }
  };

  return {
    list: async (filter, page) => {
      const where = { ...nameWhere(filter), kind: filter.kind, repositoryId: filter.repository, enabled: filter.enabled };
      return listPage(prisma.schedule.count({ where }), prisma.schedule.findMany({ where, orderBy: { name: 'asc' }, ...pageArgs(page) }));
    },
    get: find,
    create: async (input) => {
      const data = await toData(input);
      return writeThrough(
        scheduleQueue,
        () => prisma.schedule.create({ data }),
        (row) => prisma.schedule.delete({ where: { id: row.id } }),
      );
    },
    update: async (id, patch) => {
      const row = await find(id);
      // A patch that keeps the kind keeps the kind's stored fields; one that changes it starts from the common ones.
      const base = patch.kind === undefined || patch.kind === row.kind ? storedInput(row) : commonInput(row);
      const data = await toData(ScheduleInput.parse({ ...base, ...patch }));
      return writeThrough(
        scheduleQueue,
        () => prisma.schedule.update({ where: { id }, data }),
        () => prisma.schedule.update({ where: { id }, data: storedColumns(row) }),
      );
    },
    delete: async (id) => {
      const row = await find(id);
      await onReachableQueue(scheduleQueue, 'delete the schedule', () => removeSchedule(scheduleQueue, row.id));
      await prisma.schedule.delete({ where: { id: row.id } });
    },
  };
}

/** The fields of every kind, as a row holds them. */
function commonInput({ kind, name, cron, timezone, enabled }: Schedule) {
  return { kind, name, cron, timezone, enabled };
}

/** A row as the input it was written from: its kind's fields only. */
function storedInput(row: Schedule) {
  return row.kind === 'sync'
    ? { ...commonInput(row), repository: row.repositoryId, remote: row.remoteId, mirror: row.mirror }
    : { ...commonInput(row), params: row.params };
}

/** Every column an update writes, as the row had them: what undoes it. */
function storedColumns(row: Schedule) {
  const { kind, name, cron, timezone, enabled, repositoryId, remoteId, mirror } = row;
  return { kind, name, cron, timezone, enabled, repositoryId, remoteId, mirror, params: row.params as Prisma.InputJsonValue };
}
