import type { PrismaClient, Schedule } from '@cistern/db';
import type { DependencyWatch } from '@cistern/dependency-watch';
import { Queue, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ownRedisWatch, watchBullmq } from './redis-watch.ts';
import { repositoryResource } from './repository-resource.ts';
import type { TaskKind, TaskParams } from './task-definition.ts';
import type { TaskService } from './task-service.ts';

/** Job schedulers live on their own queue: a tick only creates a task, the task queue runs it. */
export const SCHEDULE_QUEUE = 'schedules';
export const SCHEDULE_TICK = 'schedule-tick';

const tickDataSchema = z.object({ scheduleId: z.uuid() }).strict();

/** Where the schedule queue lives. */
export interface ScheduleQueueOptions {
  connection: ConnectionOptions;
  /** Every key goes under `<prefix>:` (REDIS_PREFIX), so installations sharing a Redis never meet. */
  prefix: string;
  /** Skip BullMQ's Redis version check (producer queues: see openProducerQueues). */
  skipVersionCheck?: boolean;
}

/** The queue that holds one BullMQ job scheduler per enabled schedule. */
export function createScheduleQueue(options: ScheduleQueueOptions): Queue {
  return new Queue(SCHEDULE_QUEUE, {
    connection: options.connection,
    prefix: options.prefix,
    skipVersionCheck: options.skipVersionCheck ?? false,
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

/** The params a sync schedule's tick gives the task it starts. */
export interface ScheduledSyncParams {
  repositoryId: string;
  remoteId: string;
  mirror: boolean;
}

/** The kind a sync schedule's tick starts: the sync package's `sync`, whose params are those a schedule row holds. */
export type ScheduledKind = TaskKind<string, z.ZodType<ScheduledSyncParams>>;

/**
 * A kind schedules other than sync start, under its own name (the row's
 * `kind`): the row's `params` are the task's params, checked against the
 * kind's schema, and `resource` names the lock its tasks take.
 */
export interface ParamsScheduledKind<K extends TaskKind = TaskKind> {
  kind: K;
  resource(params: TaskParams<K>): string;
}

type ScheduleRow = Pick<Schedule, 'kind' | 'repositoryId' | 'remoteId' | 'mirror' | 'params'>;
type PlannedTask = { kind: string; params: unknown; resource: string } | { skipped: string };

/** The task a sync schedule starts: of its repository, from its remote or else the repository's. */
async function planSync(prisma: PrismaClient, schedule: ScheduleRow, kind: ScheduledKind): Promise<PlannedTask> {
  const repository = schedule.repositoryId ? await prisma.repository.findUnique({ where: { id: schedule.repositoryId } }) : null;
  if (!repository) return { skipped: 'the sync schedule names no repository' };
  const remoteId = schedule.remoteId ?? repository.remoteId;
  if (!remoteId) return { skipped: 'neither the schedule nor its repository names a remote' };
  const params: ScheduledSyncParams = { repositoryId: repository.id, remoteId, mirror: schedule.mirror };
  return { kind: kind.name, params, resource: repositoryResource(repository.id) };
}

/** The task a schedule of another kind starts: its params as the row holds them. */
function planFromParams(schedule: ScheduleRow, others: readonly ParamsScheduledKind[]): PlannedTask {
  const other = others.find((o) => o.kind.name === schedule.kind);
  if (!other) return { skipped: `no task kind "${schedule.kind}" is scheduled here` };
  const checked = other.kind.params.safeParse(schedule.params);
  if (!checked.success) return { skipped: `its params do not fit kind "${schedule.kind}": ${z.prettifyError(checked.error)}` };
  return { kind: other.kind.name, params: checked.data, resource: other.resource(checked.data) };
}

/**
 * One tick: a task of the schedule's kind (`kind` for sync schedules, the one
 * of `others` named by the row otherwise) through the same TaskService path
 * as an API request, so a tick while an identical task still waits returns
 * that task instead of a twin, and a tick while a task of the kind holds the
 * same resource queues nothing.
 */
export async function runScheduleTick(
  prisma: PrismaClient,
  tasks: TaskService,
  scheduleId: string,
  kind: ScheduledKind,
  others: readonly ParamsScheduledKind[] = [],
): Promise<TickOutcome> {
  const schedule = await prisma.schedule.findUnique({ where: { id: scheduleId } });
  if (!schedule) return { skipped: 'the schedule no longer exists' };
  if (!schedule.enabled) return { skipped: 'the schedule is disabled' };
  const plan = schedule.kind === kind.name ? await planSync(prisma, schedule, kind) : planFromParams(schedule, others);
  if ('skipped' in plan) return plan;
  const running = await prisma.task.findFirst({ where: { kind: plan.kind, resource: plan.resource, state: 'running' }, select: { id: true } });
  if (running) return { skipped: `${plan.kind} task ${running.id} of ${plan.resource} is still running` };
  const { task, created } = await tasks.create({ kind: plan.kind, params: plan.params, resource: plan.resource, dedupe: true });
  await prisma.schedule.update({ where: { id: schedule.id }, data: { lastTaskId: task.id } });
  return { taskId: task.id, created };
}

/** What the schedule worker needs: where ticks create their tasks, and the kinds they start. */
export interface ScheduleWorkerOptions {
  prisma: PrismaClient;
  /** Knows `kind` and every kind of `others`. */
  tasks: TaskService;
  /** What sync schedules start. */
  kind: ScheduledKind;
  /** What schedules of other kinds start; a tick of a kind missing here is skipped with a warning. */
  others?: readonly ParamsScheduledKind[];
  connection: ConnectionOptions;
  logger: Logger;
  /** The process's Redis watch, which the worker's connections report to (default: a watch of the worker's own). */
  redisWatch?: DependencyWatch;
  /** Every key goes under `<prefix>:` (REDIS_PREFIX), so installations sharing a Redis never meet. */
  prefix: string;
}

/** Turns each tick of the schedule queue into a task, one tick at a time. */
export function createScheduleWorker(options: ScheduleWorkerOptions): Worker {
  const { prisma, tasks, kind, others, logger } = options;
  const worker = new Worker(
    SCHEDULE_QUEUE,
    async (job: Job) => {
      const { scheduleId } = tickDataSchema.parse(job.data);
      const outcome = await runScheduleTick(prisma, tasks, scheduleId, kind, others);
      if ('skipped' in outcome) logger.warn({ scheduleId }, `schedule tick skipped: ${outcome.skipped}`);
      else logger.info({ scheduleId, ...outcome }, 'schedule tick queued a task');
      return outcome;
    },
    { connection: options.connection, prefix: options.prefix, concurrency: 1 },
  );
  watchBullmq(worker, options.redisWatch ?? ownRedisWatch(logger, options.connection), logger);
  return worker;
}
