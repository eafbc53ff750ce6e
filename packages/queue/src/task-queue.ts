import { Queue, type ConnectionOptions, type Job } from 'bullmq';
import { z } from 'zod';
import { TASK_QUEUE } from './queue-names.ts';

/** The payload of every BullMQ job: the Task row is the source of truth, the job only points at it. */
export const taskJobDataSchema = z.object({ taskId: z.uuid() }).strict();
export type TaskJobData = z.infer<typeof taskJobDataSchema>;

/** Where the task queue lives and how its jobs retry. */
export interface TaskQueueOptions {
  connection: ConnectionOptions;
  /** Every key goes under `<prefix>:` (REDIS_PREFIX), so installations sharing a Redis never meet. */
  prefix: string;
  /** Attempts for retryable failures, with exponential backoff. */
  attempts?: number;
  backoffMs?: number;
  /** Skip BullMQ's Redis version check (producer queues: see openProducerQueues). */
  skipVersionCheck?: boolean;
}

/** The queue every task's job goes to (jobId = task id). */
export function createTaskQueue(options: TaskQueueOptions): Queue {
  return new Queue(TASK_QUEUE, {
    connection: options.connection,
    prefix: options.prefix,
    skipVersionCheck: options.skipVersionCheck ?? false,
    defaultJobOptions: {
      attempts: options.attempts ?? 3,
      backoff: { type: 'exponential', delay: options.backoffMs ?? 5000 },
      // The Task row is the record users read; BullMQ keeps jobs only briefly.
      removeOnComplete: { age: 3600, count: 1000 },
      removeOnFail: { age: 24 * 3600, count: 1000 },
    },
  });
}

const LIVE_JOB_STATES = new Set(['active', 'waiting', 'delayed', 'prioritized', 'waiting-children']);

/** Whether a worker will still run the job (or is running it). */
async function isLive(job: Job | undefined): Promise<boolean> {
  return job !== undefined && LIVE_JOB_STATES.has(await job.getState());
}

/** Whether Redis holds a job for the task that a worker will still run (or is running). */
export async function hasLiveJob(queue: Queue, taskId: string): Promise<boolean> {
  return isLive(await queue.getJob(taskId));
}

/**
 * Gives a task its job back when Redis holds no live one (Redis restarted
 * empty, or the job ended without closing its task). Safe when several
 * processes race: the job id is the task id, so adding a live job twice is a
 * no-op. Answers whether it queued a job.
 */
export async function ensureTaskJob(queue: Queue, task: { id: string; kind: string }): Promise<boolean> {
  const job = await queue.getJob(task.id);
  if (await isLive(job)) return false;
  // A finished job keeps its id: it must go before a new one can take it.
  if (job) await job.remove().catch(() => undefined);
  const data: TaskJobData = { taskId: task.id };
  await queue.add(task.kind, data, { jobId: task.id });
  return true;
}
