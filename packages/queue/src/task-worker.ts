import { setMaxListeners } from 'node:events';
import type { PrismaClient, Prisma, Task } from '@cistern/db';
import type { DependencyWatch } from '@cistern/dependency-watch';
import { DelayedError, UnrecoverableError, WaitingError, Worker, type ConnectionOptions, type Job, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { ResourceLocks, type HeldLock } from '@cistern/redis-lock';
import type { Logger } from 'pino';
import { closeTask } from './close-task.ts';
import { taskChanged, type TaskChange } from './task-changed.ts';
import { TASK_QUEUE } from './queue-names.ts';
import { TaskContext } from './task-context.ts';
import { countTaskKinds } from './task-metrics.ts';
import type { TaskRunner } from './task-definition.ts';
import { isRetryable, TaskCanceledError, TaskError, toErrorRecord, WorkerStoppingError, type TaskErrorRecord } from './task-errors.ts';
import { ensureTaskJob, taskJobDataSchema } from './task-queue.ts';
import { ownRedisWatch, watchBullmq } from './redis-watch.ts';

/** How a task worker runs, and the kinds it runs. */
export interface TaskWorkerOptions {
  prisma: PrismaClient;
  connection: ConnectionOptions;
  /** The task queue, to queue a running task again when Redis has lost its job. */
  queue: Queue;
  /** A plain connection for resource locks and cancel polling (not the worker's blocking one). */
  redis: Redis;
  /** One runner per kind this worker runs; a task of any other kind fails with UNKNOWN_TASK_KIND. */
  tasks: readonly TaskRunner[];
  logger: Logger;
  /** The process's Redis watch, which the worker's connections report to (default: a watch of the worker's own). */
  redisWatch?: DependencyWatch;
  name: string;
  /** BullMQ's key prefix, also under which the resource locks live (`<prefix>:lock:<resource>`). */
  prefix: string;
  concurrency?: number;
  lockTtlMs?: number;
  /** How long a job whose resource is busy waits before it tries again. */
  busyRetryDelayMs?: number;
  cancelPollMs?: number;
  progressFlushMs?: number;
  /** BullMQ stall detection; tests shorten these to recover killed workers in seconds. */
  stalledIntervalMs?: number;
  jobLockDurationMs?: number;
  /** How often a job may stall (its worker died) before BullMQ fails it; default 2. */
  maxStalledCount?: number;
}

const FINISHED = new Set(['completed', 'failed', 'canceled']);

/**
 * The worker side of the task runner: moves each task through
 * waiting → running → completed | failed | canceled with conditional updates,
 * holds the task's resource lock while it runs, and honours cancel. Closing
 * the worker interrupts the tasks it runs at their next safe point and puts
 * them back to waiting, their jobs back on the queue with the progress so far,
 * for this or another worker to resume.
 */
export function createTaskWorker(options: TaskWorkerOptions): Worker {
  const { prefix } = options;
  const locks = new ResourceLocks(options.redis, prefix, options.lockTtlMs ?? 30_000);
  const { prisma, logger } = options;
  const runners = new Map<string, TaskRunner>();
  for (const runner of options.tasks) {
    if (runners.has(runner.kind.name)) throw new Error(`two runners for task kind "${runner.kind.name}"`);
    runners.set(runner.kind.name, runner);
  }
  countTaskKinds(options.tasks.map((runner) => runner.kind));

  const running = new Set<AbortController>();

  const closing = { prisma, log: logger };
  const setState = async (taskId: string, from: Task['state'][], data: Prisma.TaskUpdateManyMutationInput) =>
    (await prisma.task.updateMany({ where: { id: taskId, state: { in: from } }, data })).count === 1;

  async function process(job: Job, token?: string): Promise<void> {
    const { taskId } = taskJobDataSchema.parse(job.data);
    const task = await prisma.task.findUnique({ where: { id: taskId } });
    if (!task) throw new UnrecoverableError(`task ${taskId} does not exist`);
    if (FINISHED.has(task.state)) return;
    if (task.state === 'canceling') {
      await closeTask(closing, taskId, ['canceling'], 'canceled');
      return;
    }
    const runner = runners.get(task.kind);
    if (!runner) {
      await fail(task, new TaskError('UNKNOWN_TASK_KIND', `no handler for task kind "${task.kind}"`));
      throw new UnrecoverableError(`no handler for task kind "${task.kind}"`);
    }
    // Checked before the lock is taken: nothing that can throw may run between acquiring it and the `try` that releases it.
    const params = runner.kind.params.safeParse(task.params);
    if (!params.success) {
      await fail(task, new TaskError('TASK_PARAMS_INVALID', `the task's params do not fit kind "${task.kind}": ${params.error.message}`));
      throw new UnrecoverableError(`invalid params for task ${taskId}`);
    }
    const lock = await takeResource(task);
    if (lock === null) {
      // Another task holds the resource or goes before us on it: wait our turn without failing or using an attempt.
      await job.moveToDelayed(Date.now() + (options.busyRetryDelayMs ?? 2000), token);
      throw new DelayedError();
    }
    const aborter = new AbortController();
    running.add(aborter);
    // Every request, wait and queued slot of a task listens for its cancel: far more than Node's default of 10.
    setMaxListeners(0, aborter.signal);
    const poll = setInterval(() => {
      prisma.task
        .findUnique({ where: { id: taskId }, select: { state: true } })
        .then((row) => {
          if (row?.state === 'canceling') aborter.abort(new TaskCanceledError());
        })
        .catch(() => undefined);
    }, options.cancelPollMs ?? 1000);
    poll.unref();
    const onLockLost = () => aborter.abort(new TaskError('LOCK_LOST', `lost the lock on ${task.resource}`, { retryable: true }));
    lock?.lost.addEventListener('abort', onLockLost);
    const ctx = new TaskContext(taskId, params.data, aborter.signal, logger.child({ taskId, kind: task.kind }), prisma, options.progressFlushMs ?? 500);
    // The first start's time: a task retried or resumed counts its run time from there.
    const thisTask = { ...task, startedAt: task.startedAt ?? new Date() };
    /** Moves the task on from `from` when it is still there, and records the change (taskChanged). */
    const change = async (
      from: Task['state'][],
      data: Prisma.TaskUpdateManyMutationInput & { state: Task['state'] },
      why: Omit<TaskChange, 'state' | 'at'> = {},
    ) => {
      const at = data.finishedAt instanceof Date ? data.finishedAt : new Date();
      if (!(await setState(taskId, from, data))) return false;
      taskChanged(logger, thisTask, { state: data.state, at, ...why });
      return true;
    };
    try {
      // running → running is a stalled job picked up again after its worker died; its run starts counting afresh.
      const started = await change(['waiting', 'running'], { state: 'running', worker: options.name, startedAt: thisTask.startedAt, progressReports: [] });
      if (!started) {
        await closeTask(closing, taskId, ['canceling'], 'canceled');
        return;
      }
      const result = await runner.run(ctx);
      await change(['running', 'canceling'], {
        state: 'completed',
        progressReports: await ctx.settle('completed'),
        finishedAt: new Date(),
        createdResources: result?.createdResources ?? [],
        warnings: (result?.warnings ?? []) as unknown as Prisma.InputJsonValue,
        ...(result?.result ? { result: result.result } : {}),
      });
    } catch (error) {
      if (aborter.signal.reason instanceof WorkerStoppingError) {
        // Whatever the interrupted step threw: it was the shutdown. No attempt is used.
        await change(['running'], { state: 'waiting', worker: null, progressReports: await ctx.settle() }, { note: 'the worker is shutting down' });
        await job.moveToWait(token);
        throw new WaitingError();
      }
      if (error instanceof TaskCanceledError) {
        await change(['running', 'canceling'], { state: 'canceled', finishedAt: new Date(), progressReports: await ctx.settle('canceled') });
        return;
      }
      if (isRetryable(error)) {
        // Redis restarted empty (its lock loss is how the handler learnt of it):
        // BullMQ cannot retry a job it no longer has, so the task gets a new one.
        const waited = await setState(taskId, ['running'], { state: 'waiting', progressReports: await ctx.settle() });
        const requeued = await ensureTaskJob(options.queue, task);
        const retrying = !requeued && job.attemptsMade + 1 < (job.opts.attempts ?? 1);
        if (waited && (requeued || retrying)) {
          const note = requeued ? 'Redis lost the job of this task; queued it again' : `retrying after attempt ${job.attemptsMade + 1}`;
          taskChanged(logger, thisTask, { state: 'waiting', cause: error, note });
        }
        if (requeued) return;
        if (retrying) throw error;
      }
      await fail(thisTask, error, await ctx.settle('failed'));
      throw new UnrecoverableError(toErrorRecord(error).message);
    } finally {
      running.delete(aborter);
      clearInterval(poll);
      lock?.lost.removeEventListener('abort', onLockLost);
      await lock?.release().catch(() => undefined);
      if (lock) await wakeNext(task).catch((error: unknown) => logger.warn({ err: error, taskId }, 'could not wake the next task on its resource'));
    }
  }

  /**
   * The task's resource lock: undefined for a task without a resource, null
   * while another task holds it or an older task on it has not finished (tasks
   * on one resource run in the order they were submitted, as in Pulp).
   */
  async function takeResource(task: Task): Promise<HeldLock | null | undefined> {
    if (!task.resource) return undefined;
    const older = await prisma.task.findFirst({
      where: { resource: task.resource, state: { in: ['waiting', 'running', 'canceling'] }, seq: { lt: task.seq } },
      select: { id: true },
    });
    return older ? null : locks.acquire(task.resource, task.id);
  }

  /** Takes the next task on the resource out of its busy-retry delay, so a line of tasks runs one after another, not one per delay. */
  async function wakeNext(task: Task): Promise<void> {
    const next = await prisma.task.findFirst({
      where: { resource: task.resource, state: 'waiting', seq: { gt: task.seq } },
      orderBy: { seq: 'asc' },
      select: { id: true },
    });
    const job = next && (await options.queue.getJob(next.id));
    if (job && (await job.isDelayed())) await job.promote();
  }

  /** Fails a task with what was thrown: its error is logged here, once (taskChanged), and nowhere else. */
  async function fail(task: Task, error: unknown, progressReports?: Prisma.InputJsonValue): Promise<void> {
    const record = toErrorRecord(error);
    if (progressReports === undefined) {
      await closeTask(closing, task.id, ['waiting', 'running', 'canceling'], 'failed', record);
      return;
    }
    const finishedAt = new Date();
    const data = { state: 'failed' as const, progressReports, finishedAt, error: record as unknown as Prisma.InputJsonValue };
    if (await setState(task.id, ['waiting', 'running', 'canceling'], data))
      taskChanged(logger, task, { state: 'failed', at: finishedAt, error: record, cause: error });
  }

  const maxStalledCount = options.maxStalledCount ?? 2;
  const worker = new Worker(TASK_QUEUE, process, {
    connection: options.connection,
    prefix,
    concurrency: options.concurrency ?? 4,
    stalledInterval: options.stalledIntervalMs ?? 30_000,
    lockDuration: options.jobLockDurationMs ?? 30_000,
    maxStalledCount,
  });
  watchBullmq(worker, options.redisWatch ?? ownRedisWatch(logger, options.connection), logger);
  worker.on('closing', () => {
    for (const aborter of running) aborter.abort(new WorkerStoppingError());
  });
  // BullMQ can fail a job without our processor finishing it (a job that stalled too
  // often): close its task then, instead of leaving it `running` until the next boot.
  worker.on('failed', (job, error) => {
    if (!job?.id) return;
    const taskId = job.id;
    job
      .isFailed()
      .then(async (final) => {
        if (!final) return;
        const record = (
          job.stalledCounter > maxStalledCount
            ? {
                code: 'WORKER_DIED',
                message: `a worker stopped while running this task ${job.stalledCounter} times; it is not started again in case the task itself stops workers (for example by running out of memory): start it again once the cause is fixed`,
              }
            : { code: 'JOB_FAILED', message: `the task's job failed: ${error.message}` }
        ) satisfies TaskErrorRecord;
        await closeTask(closing, taskId, ['waiting', 'running', 'canceling'], 'failed', record);
      })
      .catch((failure: unknown) => logger.error({ err: failure, taskId }, 'could not close the task of a failed job'));
  });
  return worker;
}
