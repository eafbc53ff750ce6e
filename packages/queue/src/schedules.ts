import type { PrismaClient, Schedule } from '@cistern/db';
import { Queue, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { z } from 'zod';
import { DEFAULT_PREFIX } from './queue-names.ts';
import { repositoryResource } from './repository-resource.ts';
import type { TaskKind } from './task-definition.ts';
import type { TaskService } from './task-service.ts';

/** Job schedulers live on their own queue: a tick only creates a task, the task queue runs it. */
export const SCHEDULE_QUEUE = 'schedules';
export const SCHEDULE_TICK = 'schedule-tick';

const tickDataSchema = z.object({ scheduleId: z.uuid() }).strict();

/** Where the schedule queue lives. */
export interface ScheduleQueueOptions {
  connection: ConnectionOptions;
  prefix?: string;
}

/** The queue that holds one BullMQ job scheduler per enabled schedule. */
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
  await queue.upsertJobScheduler(schedule.id, { pattern: schedule.cron, tz: schedule.timezone }, { name: SCHEDULE_TICK, data: { scheduleId: schedule.id } });
}

/** Drops the job scheduler of a schedule that is gone. */
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

/** What a tick did: queued a task (or found its waiting twin), or skipped and why. */
export type TickOutcome = { taskId: string; created: boolean } | { skipped: string };

/** The params a schedule's tick gives the task it starts. */
export interface ScheduledSyncParams {
  repositoryId: string;
  remoteId: string;
  mirror: boolean;
}

/** The kind a schedule's tick starts: the sync package's `sync`, whose params are those a schedule row holds. */
export type ScheduledKind = TaskKind<string, z.ZodType<ScheduledSyncParams>>;

/**
 * One tick: a sync task (of `kind`) through the same TaskService path as an
 * API request, so a tick while an identical sync still waits returns that task
 * instead of a twin, and a tick while a sync of the repository runs queues nothing.
 */
export async function runScheduleTick(prisma: PrismaClient, tasks: TaskService, scheduleId: string, kind: ScheduledKind): Promise<TickOutcome> {
  const schedule = await prisma.schedule.findUnique({ where: { id: scheduleId }, include: { repository: true } });
  if (!schedule) return { skipped: 'the schedule no longer exists' };
  if (!schedule.enabled) return { skipped: 'the schedule is disabled' };
  const remoteId = schedule.remoteId ?? schedule.repository.remoteId;
  if (!remoteId) return { skipped: 'neither the schedule nor its repository names a remote' };
  const resource = repositoryResource(schedule.repositoryId);
  const running = await prisma.task.findFirst({ where: { kind: kind.name, resource, state: 'running' }, select: { id: true } });
  if (running) return { skipped: `${kind.name} task ${running.id} of this repository is still running` };
  const params: ScheduledSyncParams = { repositoryId: schedule.repositoryId, remoteId, mirror: schedule.mirror };
  const { task, created } = await tasks.create({
    kind: kind.name,
    params,
    resource,
    dedupe: true,
  });
  await prisma.schedule.update({ where: { id: schedule.id }, data: { lastTaskId: task.id } });
  return { taskId: task.id, created };
}

/** What the schedule worker needs: where ticks create their tasks, and the kind they start. */
export interface ScheduleWorkerOptions {
  prisma: PrismaClient;
  tasks: TaskService;
  kind: ScheduledKind;
  connection: ConnectionOptions;
  logger: Logger;
  prefix?: string;
}

/** Turns each tick of the schedule queue into a task, one tick at a time. */
export function createScheduleWorker(options: ScheduleWorkerOptions): Worker {
  const { prisma, tasks, kind, logger } = options;
  const worker = new Worker(
    SCHEDULE_QUEUE,
    async (job: Job) => {
      const { scheduleId } = tickDataSchema.parse(job.data);
      const outcome = await runScheduleTick(prisma, tasks, scheduleId, kind);
      if ('skipped' in outcome) logger.warn({ scheduleId }, `schedule tick skipped: ${outcome.skipped}`);
      else logger.info({ scheduleId, ...outcome }, 'schedule tick queued a sync');
      return outcome;
    },
    { connection: options.connection, prefix: options.prefix ?? DEFAULT_PREFIX, concurrency: 1 },
  );
  worker.on('error', (error) => logger.error({ err: error }, 'schedule worker error'));
  return worker;
}
