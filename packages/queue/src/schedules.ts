import type { PrismaClient, Schedule } from '@cistern/db';
import { Queue, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { z } from 'zod';
import { DEFAULT_PREFIX } from './queue-names.ts';
import { repositoryResource } from './task-kinds.ts';
import type { TaskService } from './task-service.ts';

/** Job schedulers live on their own queue: a tick only creates a task, the task queue runs it. */
export const SCHEDULE_QUEUE = 'schedules';
export const SCHEDULE_TICK = 'schedule-tick';

const tickDataSchema = z.object({ scheduleId: z.uuid() }).strict();

export interface ScheduleQueueOptions {
  connection: ConnectionOptions;
  prefix?: string;
}

export function createScheduleQueue(options: ScheduleQueueOptions): Queue {
  return new Queue(SCHEDULE_QUEUE, {
    connection: options.connection,
    prefix: options.prefix ?? DEFAULT_PREFIX,
    defaultJobOptions: { removeOnComplete: { count: 100 }, removeOnFail: { count: 1000 } },
  });
}

type ScheduleTiming = Pick<Schedule, 'id' | 'cron' | 'timezone' | 'enabled'>;

/**
 * Keeps the BullMQ job scheduler of one schedule in step with its row: an
 * enabled schedule has one (keyed by the schedule id), a disabled one none.
 */
export async function applySchedule(queue: Queue, schedule: ScheduleTiming): Promise<void> {
  if (!schedule.enabled) {
    await queue.removeJobScheduler(schedule.id);
    return;
  }
  await queue.upsertJobScheduler(
    schedule.id,
    { pattern: schedule.cron, tz: schedule.timezone },
    { name: SCHEDULE_TICK, data: { scheduleId: schedule.id } },
  );
}

export async function removeSchedule(queue: Queue, scheduleId: string): Promise<void> {
  await queue.removeJobScheduler(scheduleId);
}

/** At worker boot: Redis may have lost schedulers, or kept ones whose row is gone. */
export async function restoreSchedules(prisma: PrismaClient, queue: Queue): Promise<{ applied: number; removed: number }> {
  const schedules = await prisma.schedule.findMany({ select: { id: true, cron: true, timezone: true, enabled: true } });
  for (const schedule of schedules) await applySchedule(queue, schedule);
  const known = new Set(schedules.map((s) => s.id));
  let removed = 0;
  for (const scheduler of await queue.getJobSchedulers()) {
    if (scheduler.key && !known.has(scheduler.key)) {
      await queue.removeJobScheduler(scheduler.key);
      removed++;
    }
  }
  return { applied: schedules.length, removed };
}

export type TickOutcome = { taskId: string; created: boolean } | { skipped: string };

/**
 * One tick: a sync task through the same TaskService path as an API request,
 * so a tick while an identical sync still waits returns that task instead of a
 * twin, and a tick while a sync of the repository runs queues nothing.
 */
export async function runScheduleTick(prisma: PrismaClient, tasks: TaskService, scheduleId: string): Promise<TickOutcome> {
  const schedule = await prisma.schedule.findUnique({ where: { id: scheduleId }, include: { repository: true } });
  if (!schedule) return { skipped: 'the schedule no longer exists' };
  if (!schedule.enabled) return { skipped: 'the schedule is disabled' };
  const remoteId = schedule.remoteId ?? schedule.repository.remoteId;
  if (!remoteId) return { skipped: 'neither the schedule nor its repository names a remote' };
  const resource = repositoryResource(schedule.repositoryId);
  const running = await prisma.task.findFirst({ where: { kind: 'sync', resource, state: 'running' }, select: { id: true } });
  if (running) return { skipped: `sync task ${running.id} of this repository is still running` };
  const { task, created } = await tasks.create({
    kind: 'sync',
    params: { repositoryId: schedule.repositoryId, remoteId, mirror: schedule.mirror },
    resource,
    dedupe: true,
  });
  await prisma.schedule.update({ where: { id: schedule.id }, data: { lastTaskId: task.id } });
  return { taskId: task.id, created };
}

export interface ScheduleWorkerOptions {
  prisma: PrismaClient;
  tasks: TaskService;
  connection: ConnectionOptions;
  logger: Logger;
  prefix?: string;
}

export function createScheduleWorker(options: ScheduleWorkerOptions): Worker {
  const { prisma, tasks, logger } = options;
  const worker = new Worker(
    SCHEDULE_QUEUE,
    async (job: Job) => {
      const { scheduleId } = tickDataSchema.parse(job.data);
      const outcome = await runScheduleTick(prisma, tasks, scheduleId);
      if ('skipped' in outcome) logger.warn({ scheduleId }, `schedule tick skipped: ${outcome.skipped}`);
      else logger.info({ scheduleId, ...outcome }, 'schedule tick queued a sync');
      return outcome;
    },
    { connection: options.connection, prefix: options.prefix ?? DEFAULT_PREFIX, concurrency: 1 },
  );
  worker.on('error', (error) => logger.error({ err: error }, 'schedule worker error'));
  return worker;
}
