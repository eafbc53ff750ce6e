import type { Prisma, PrismaClient, Task } from '@cistern/db';
import { CisternError, isCisternError, type CisternErrorOptions } from '@cistern/errors';
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { TaskKind, TaskParamsOf } from './task-definition.ts';
import { TaskError, type TaskErrorRecord } from './task-errors.ts';
import { closeTask } from './close-task.ts';
import { taskChanged } from './task-changed.ts';
import { countTaskKinds } from './task-metrics.ts';
import { ensureTaskJob, type TaskJobData } from './task-queue.ts';
import { assertQueueReachable, onReachableQueue } from './producer-queue.ts';
import { RedisUnavailableError } from './redis.ts';

/** What a refused create could not do, in "cannot … now". */
const QUEUE_THE_TASK = 'queue the task';

/** A task to create: the name of one of the service's kinds and params that fit its schema. */
export interface CreateTaskInput<K extends TaskKind = TaskKind, N extends K['name'] = K['name']> {
  kind: N;
  params: TaskParamsOf<K, N>;
  /** The lock and deduplication key, e.g. repositoryResource(id). */
  resource?: string;
  /** Return a waiting task of the same kind, resource and params instead of queueing a twin (its job queued again if Redis lost it). */
  dedupe?: boolean;
}

/** The task made, or the waiting twin returned instead (`created: false`). */
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
 * Creates and cancels tasks of the kinds it is given. The Task row comes first,
 * then the BullMQ job with jobId = task id; a failed enqueue marks the task
 * failed, so no task waits forever. While the Redis of a queue on a producer
 * connection (producerConnectionOptions, as the API's) is unreachable, create
 * refuses before writing the row (RedisUnavailableError), so a client told
 * "unavailable" has nothing that runs later behind its back.
 */
export class TaskService<K extends TaskKind = TaskKind> {
  private readonly kinds: ReadonlyMap<string, TaskKind>;

  /** `log` gets a line per state change made here (a task created, canceled, or failed to queue). */
  constructor(
    private readonly prisma: PrismaClient,
    private readonly queue: Queue,
    kinds: readonly K[],
    private readonly log: Logger,
  ) {
    this.kinds = new Map(kinds.map((kind) => [kind.name, kind]));
    // Tasks of these kinds end here too (canceled while waiting, or never queued).
    countTaskKinds(kinds);
  }

  /**
   * Creates a task, its params checked against its kind's schema and stored as
   * given. Rejects with a RedisUnavailableError (REDIS_UNAVAILABLE, retryable)
   * when Redis is unreachable: before the row is written when that is known at
   * once; when Redis goes in the moment between the row and its job, after
   * marking the task failed (ENQUEUE_FAILED), which the error's detail names.
   */
  async create<N extends K['name']>(input: CreateTaskInput<K, N>): Promise<CreatedTask> {
    const kind = this.kinds.get(input.kind);
    if (!kind) throw new TaskError('UNKNOWN_TASK_KIND', `no task kind "${input.kind}" is known here`);
    const checked = kind.params.safeParse(input.params);
    if (!checked.success) throw new TaskError('TASK_PARAMS_INVALID', `the params do not fit kind "${input.kind}": ${checked.error.message}`);
    const params = input.params as Prisma.InputJsonValue;
    await assertQueueReachable(this.queue, QUEUE_THE_TASK);
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
      await onReachableQueue(this.queue, QUEUE_THE_TASK, () => ensureTaskJob(this.queue, outcome.task));
      return outcome;
    }
    try {
      const data: TaskJobData = { taskId: outcome.task.id };
      await onReachableQueue(this.queue, QUEUE_THE_TASK, () => this.queue.add(input.kind, data, { jobId: outcome.task.id }));
    } catch (error) {
      const record = { code: 'ENQUEUE_FAILED', message: `the job could not be queued: ${(error as Error).message}` } satisfies TaskErrorRecord;
      // Only while it waits: a job whose reply was lost may have reached Redis, and a worker may be running it.
      const closed = await closeTask({ prisma: this.prisma, log: this.log }, outcome.task.id, ['waiting'], 'failed', record);
      const failed = await this.prisma.task.findUniqueOrThrow({ where: { id: outcome.task.id } });
      if (!closed) return { task: failed, created: true };
      if (isCisternError(error, 'REDIS_UNAVAILABLE')) {
        const said = `task ${failed.id} was recorded just before and is now failed (ENQUEUE_FAILED): it will not run`;
        throw new RedisUnavailableError(error.message, { cause: error, detail: [{ code: 'ENQUEUE_FAILED', message: said }] });
      }
      return { task: failed, created: true };
    }
    taskChanged(this.log, outcome.task, { state: 'waiting' });
    return outcome;
  }

  /**
   * A waiting task is canceled at once; a running one becomes `canceling` and the
   * worker stops at its next safe point. Finished tasks cannot be canceled.
   * Needs only the database: while Redis is unreachable the waiting task's job
   * stays queued, and the worker that takes it finds the task canceled and
   * skips it.
   */
  async cancel(taskId: string): Promise<Task> {
    let canceling = false;
    if (await closeTask({ prisma: this.prisma, log: this.log }, taskId, ['waiting'], 'canceled')) {
      await this.queue.remove(taskId).catch(() => undefined);
    } else {
      canceling = (await this.prisma.task.updateMany({ where: { id: taskId, state: 'running' }, data: { state: 'canceling' } })).count === 1;
    }
    const task = await this.prisma.task.findUniqueOrThrow({ where: { id: taskId } });
    if (canceling) taskChanged(this.log, task, { state: 'canceling' });
    if (task.state === 'completed' || task.state === 'failed') {
      throw new TaskStateError(`task ${taskId} already ${task.state}; only waiting or running tasks can be canceled`);
    }
    return task;
  }
}
