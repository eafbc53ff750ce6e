import type { PrismaClient } from '@cistern/db';
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { TaskErrorRecord } from './task-errors.ts';
import { closeTask } from './close-task.ts';
import { ensureTaskJob, hasLiveJob } from './task-queue.ts';

export interface ReconcileResult {
  requeued: string[];
  failed: string[];
  canceled: string[];
}

export interface ReconcileOptions {
  /**
   * Also close `running` and `canceling` tasks whose job is gone, as no worker
   * can finish them. At boot only: after a reconnect, the worker running such a
   * task is still alive and queues it again itself when it notices.
   */
  closeOrphans: boolean;
  /** Where the state changes of the tasks it closes are logged. */
  log: Logger;
}

/**
 * Run at worker boot and whenever Redis comes back: Redis may have lost jobs
 * (it keeps nothing on disk here), so tasks still `waiting` get their job back.
 * With `closeOrphans`, tasks `running` or `canceling` whose job is gone are
 * closed with a clear reason; running tasks whose job still exists are left to
 * BullMQ's stall recovery. Idempotent, and safe to run in several workers at once.
 */
export async function reconcileTasks(prisma: PrismaClient, queue: Queue, options: ReconcileOptions): Promise<ReconcileResult> {
  const result: ReconcileResult = { requeued: [], failed: [], canceled: [] };
  const open = await prisma.task.findMany({
    where: { state: { in: options.closeOrphans ? ['waiting', 'running', 'canceling'] : ['waiting'] } },
    select: { id: true, kind: true, state: true },
  });
  for (const task of open) {
    if (task.state === 'waiting') {
      if (await ensureTaskJob(queue, task)) result.requeued.push(task.id);
      continue;
    }
    if (await hasLiveJob(queue, task.id)) continue;
    if (task.state === 'canceling') {
      await closeTask({ prisma, log: options.log }, task.id, ['canceling'], 'canceled');
      result.canceled.push(task.id);
    } else {
      const error = {
        code: 'WORKER_LOST',
        message: 'the worker running this task stopped and its job was lost; start the task again',
      } satisfies TaskErrorRecord;
      if (await closeTask({ prisma, log: options.log }, task.id, ['running'], 'failed', error)) result.failed.push(task.id);
    }
  }
  return result;
}
