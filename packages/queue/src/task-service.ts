import type { Prisma, PrismaClient, Task } from '@cistern/db';
import { CisternError, type CisternErrorOptions } from '@cistern/errors';
import type { Queue } from 'bullmq';
import type { TaskJobData, TaskKind, TaskParams } from './task-kinds.ts';
import type { TaskErrorRecord } from './task-errors.ts';
import { ensureTaskJob } from './task-queue.ts';

export interface CreateTaskInput<K extends TaskKind> {
  kind: K;
  params: TaskParams<K>;
  /** The lock and deduplication key, e.g. repositoryResource(id). */
  resource?: string;
  /** Return a waiting task of the same kind, resource and params instead of queueing a twin (its job queued again if Redis lost it). */
  dedupe?: boolean;
}

export interface CreatedTask {
  task: Task;
  created: boolean;
}

/** A task asked to do what its state does not allow, e.g. to cancel once finished. */
export class TaskStateError extends CisternError<'TASK_STATE_CONFLICT'> {
  override readonly name = 'TaskStateError';

  constructor(message: string, options?: CisternErrorOptions) {
    super('TASK_STATE_CONFLICT', message, options);
  }
}

/**
 * Creates and cancels tasks. The Task row comes first, then the BullMQ job with
 * jobId = task id; a failed enqueue marks the task failed, so no task waits forever.
 */
export class TaskService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly queue: Queue,
  ) {}

  async create<K extends TaskKind>(input: CreateTaskInput<K>): Promise<CreatedTask> {
    const params = input.params as Prisma.InputJsonValue;
    const outcome = await this.prisma.$transaction(async (tx) => {
      if (input.dedupe && input.resource) {
        // Serialises concurrent identical requests so only one task is made.
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`task:${input.resource}`}))`;
        const waiting = await tx.task.findFirst({
          where: { kind: input.kind, resource: input.resource, state: 'waiting', params: { equals: params } },
          orderBy: { createdAt: 'asc' },
        });
        if (waiting) return { task: waiting, created: false };
      }
      const task = await tx.task.create({ data: { kind: input.kind, resource: input.resource ?? null, params } });
      return { task, created: true };
    });
    if (!outcome.created) {
      // The twin is only worth returning if it will run: Redis may have restarted empty since it was queued.
      await ensureTaskJob(this.queue, outcome.task);
      return outcome;
    }
    try {
      const data: TaskJobData = { taskId: outcome.task.id };
      await this.queue.add(input.kind, data, { jobId: outcome.task.id });
    } catch (error) {
      const failed = await this.prisma.task.update({
        where: { id: outcome.task.id },
        data: {
          state: 'failed',
          finishedAt: new Date(),
          error: { code: 'ENQUEUE_FAILED', message: `the job could not be queued: ${(error as Error).message}` } satisfies TaskErrorRecord,
        },
      });
      return { task: failed, created: true };
    }
    return outcome;
  }

  /**
   * A waiting task is canceled at once; a running one becomes `canceling` and the
   * worker stops at its next safe point. Finished tasks cannot be canceled.
   */
  async cancel(taskId: string): Promise<Task> {
    const now = new Date();
    const direct = await this.prisma.task.updateMany({
      where: { id: taskId, state: 'waiting' },
      data: { state: 'canceled', finishedAt: now },
    });
    if (direct.count === 1) {
      await this.queue.remove(taskId).catch(() => undefined);
    } else {
      await this.prisma.task.updateMany({ where: { id: taskId, state: 'running' }, data: { state: 'canceling' } });
    }
    const task = await this.prisma.task.findUniqueOrThrow({ where: { id: taskId } });
    if (task.state === 'completed' || task.state === 'failed') {
      throw new TaskStateError(`task ${taskId} already ${task.state}; only waiting or running tasks can be canceled`);
    }
    return task;
  }
}
