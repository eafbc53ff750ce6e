import type { PrismaClient, Schedule } from '@cistern/db';
import { removeSchedule } from '@cistern/queue';
import type { Queue } from 'bullmq';
import { nameWhere, type NameFilter } from '../shared/name-filter.ts';
import { notFound } from '../shared/not-found.ts';
import { listPage, pageArgs, type Page, type PageRequest } from '../shared/paging.ts';
import { assertExists } from '../shared/references.ts';
import { ScheduleInput, type SchedulePatch } from './schedule-input.ts';
import { writeThrough } from './schedule-write-through.ts';

export interface ScheduleFilter extends NameFilter {
  repository?: string;
  enabled?: boolean;
}

/**
 * Schedules: a row each, and for each enabled one a BullMQ job scheduler
 * kept in step with it (written through: a refused scheduler undoes the row).
 * Unknown ids throw NOT_FOUND; a repository or remote that does not exist
 * INVALID_REFERENCE (detail path `repository` or `remote`); a taken name is
 * the database's unique violation.
 */
export interface ScheduleService {
  /** Ordered by name. */
  list(filter: ScheduleFilter, page: PageRequest): Promise<Page<Schedule>>;
  get(id: string): Promise<Schedule>;
  create(input: ScheduleInput): Promise<Schedule>;
  replace(id: string, input: ScheduleInput): Promise<Schedule>;
  /** The given fields over the stored ones, checked as a whole schedule (ZodError if not). */
  update(id: string, patch: SchedulePatch): Promise<Schedule>;
  /** The job scheduler first, then the row. */
  delete(id: string): Promise<void>;
}

export function scheduleService({ prisma, scheduleQueue }: { prisma: PrismaClient; scheduleQueue: Queue }): ScheduleService {
  const find = async (id: string): Promise<Schedule> => {
    const row = await prisma.schedule.findUnique({ where: { id } });
    if (!row) throw notFound('schedule', id);
    return row;
  };
  const toData = async (input: ScheduleInput) => {
    await assertExists(prisma, 'repository', input.repository, 'repository');
    if (input.remote) await assertExists(prisma, 'remote', input.remote, 'remote');
    const { repository, remote, ...fields } = input;
    return { ...fields, cron: fields.cron.trim(), repositoryId: repository, remoteId: remote };
  };
  const write = async (stored: Schedule, input: ScheduleInput) => {
    const { id, name, cron, timezone, mirror, enabled, repositoryId, remoteId } = stored;
    const data = await toData(input);
    return writeThrough(
      scheduleQueue,
      () => prisma.schedule.update({ where: { id }, data }),
      () => prisma.schedule.update({ where: { id }, data: { name, cron, timezone, mirror, enabled, repositoryId, remoteId } }),
    );
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
    replace: async (id, input) => write(await find(id), input),
    update: async (id, patch) => {
      const stored = await find(id);
      const { name, cron, timezone, mirror, enabled, repositoryId, remoteId } = stored;
      return write(stored, ScheduleInput.parse({ name, cron, timezone, mirror, enabled, repository: repositoryId, remote: remoteId, ...patch }));
    },
    delete: async (id) => {
      const row = await find(id);
      await removeSchedule(scheduleQueue, row.id);
      await prisma.schedule.delete({ where: { id: row.id } });
    },
  };
}
