import type { PrismaClient } from '@cistern/db';
import type { Queue } from 'bullmq';
import type { TaskJobData } from './task-kinds.ts';

export interface ReconcileResult {
  requeued: string[];
  failed: string[];
  canceled: string[];
}

const LIVE_JOB_STATES = new Set(['active', 'waiting', 'delayed', 'prioritized', 'waiting-children']);

/**
 * Run at worker boot: Redis may have lost jobs (it keeps nothing on disk here),
 * so tasks still `waiting` get their job back; tasks `running` or `canceling`
 * whose job is gone can never finish and are closed with a clear reason.
 * Running tasks whose job still exists are left to BullMQ's stall recovery.
 */
export async function reconcileTasks(prisma: PrismaClient, queue: Queue): Promise<ReconcileResult> {
  const result: ReconcileResult = { requeued: [], failed: [], canceled: [] };
  const open = await prisma.task.findMany({
    where: { state: { in: ['waiting', 'running', 'canceling'] } },
    select: { id: true, kind: true, state: true },
  });
  for (const task of open) {
    const job = await queue.getJob(task.id);
    const jobState = job ? await job.getState() : 'missing';
    if (LIVE_JOB_STATES.has(jobState)) continue;
    const now = new Date();
    if (task.state === 'waiting') {
      if (job) await job.remove().catch(() => undefined);
      const data: TaskJobData = { taskId: task.id };
      await queue.add(task.kind, data, { jobId: task.id });
      result.requeued.push(task.id);
    } else if (task.state === 'canceling') {
      await prisma.task.updateMany({ where: { id: task.id, state: 'canceling' }, data: { state: 'canceled', finishedAt: now } });
      result.canceled.push(task.id);
    } else {
      const error = { code: 'WORKER_LOST', message: 'the worker running this task stopped and its job was lost; start the task again' };
      const updated = await prisma.task.updateMany({
        where: { id: task.id, state: 'running' },
        data: { state: 'failed', finishedAt: now, error },
      });
      if (updated.count === 1) result.failed.push(task.id);
    }
  }
  return result;
}
