import type { PrismaClient, Schedule } from '@cistern/db';
import { removeSchedule } from '@cistern/queue';
import type { Queue } from 'bullmq';
import { nameWhere, type NameFilter } from '../shared/name-filter.ts';
import { found } from '../shared/not-found.ts';
import { listPage, pageArgs } from '../shared/paging.ts';
import { assertExists } from '../shared/references.ts';
import type { ResourceService } from '../shared/resource-service.ts';
import { ScheduleInput, type SchedulePatch } from './schedule-input.ts';
import { writeThrough } from './schedule-write-through.ts';

/** Filters of the schedule list; undefined parts filter nothing. */
export interface ScheduleFilter extends NameFilter {
  repository?: string;
  enabled?: boolean;
}

/**
 * Schedules: a row each, and for each enabled one a BullMQ job scheduler kept
 * in step with it (written through: a refused scheduler undoes the row;
 * deleting removes the scheduler first). A repository or remote that does not
 * exist throws INVALID_REFERENCE (detail path `repository` or `remote`).
 */
export type ScheduleService = ResourceService<Schedule, ScheduleFilter, ScheduleInput, SchedulePatch>;

/** The ScheduleService over `prisma`, keeping job schedulers in `scheduleQueue`. */
export function scheduleService({ prisma, scheduleQueue }: { prisma: PrismaClient; scheduleQueue: Queue }): ScheduleService {
  const find = async (id: string) => found(await prisma.schedule.findUnique({ where: { id } }), 'schedule', id);
  const toData = async (input: ScheduleInput) => {
    await assertExists(prisma, 'repository', input.repository, 'repository');
    if (input.remote) await assertExists(prisma, 'remote', input.remote, 'remote');
    const { repository, remote, ...fields } = input;
    return { ...fields, cron: fields.cron.trim(), repositoryId: repository, remoteId: remote };
  };

  return {
    list: async (filter, page) => {
      const where = { ...nameWhere(filter), repositoryId: filter.repository, enabled: filter.enabled };
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
      const { name, cron, timezone, mirror, enabled, repositoryId, remoteId } = await find(id);
      const data = await toData(ScheduleInput.parse({ name, cron, timezone, mirror, enabled, repository: repositoryId, remote: remoteId, ...patch }));
      return writeThrough(
        scheduleQueue,
        () => prisma.schedule.update({ where: { id }, data }),
        () => prisma.schedule.update({ where: { id }, data: { name, cron, timezone, mirror, enabled, repositoryId, remoteId } }),
      );
    },
    delete: async (id) => {
      const row = await find(id);
      await removeSchedule(scheduleQueue, row.id);
      await prisma.schedule.delete({ where: { id: row.id } });
    },
  };
}
