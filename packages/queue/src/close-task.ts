import type { Prisma, PrismaClient, Task } from '@cistern/db';
import type { Logger } from 'pino';
import { taskChanged } from './task-changed.ts';
import { endReports, type FinalTaskState, type ProgressReport } from './task-context.ts';
import type { TaskErrorRecord } from './task-errors.ts';

/** What closing a task needs: the database, and the log its state change goes to. */
export interface CloseTaskDeps {
  prisma: PrismaClient;
  log: Logger;
}

/**
 * Ends a task no handler is running any more (its worker died, or it never
 * started): moves it from one of `from` to `state`, its reports no longer
 * running, with `error` when it failed. Conditional, like every state change;
 * false when the task was not in `from`. A change made is logged and counted (taskChanged).
 */
export async function closeTask(
  { prisma, log }: CloseTaskDeps,
  taskId: string,
  from: Task['state'][],
  state: FinalTaskState,
  error?: TaskErrorRecord,
): Promise<boolean> {
  const row = await prisma.task.findUnique({
    where: { id: taskId },
    select: { id: true, kind: true, resource: true, params: true, startedAt: true, progressReports: true },
  });
  if (!row) return false;
  const progressReports = endReports(row.progressReports as unknown as ProgressReport[], state) as unknown as Prisma.InputJsonValue;
  const finishedAt = new Date();
  const updated = await prisma.task.updateMany({
    where: { id: taskId, state: { in: from } },
    data: { ...(error ? { error: error as unknown as Prisma.InputJsonValue } : {}), state, finishedAt, progressReports },
  });
  if (updated.count !== 1) return false;
  taskChanged(log, row, { state, at: finishedAt, ...(error ? { error } : {}) });
  return true;
}
