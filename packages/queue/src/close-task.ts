import type { Prisma, PrismaClient, Task } from '@cistern/db';
import { endReports, type FinalTaskState, type ProgressReport } from './task-context.ts';

/**
 * Ends a task no handler is running any more (its worker died, or it never
 * started): moves it from one of `from` to `state`, its reports no longer
 * running. Conditional, like every state change; false when the task was not in `from`.
 */
export async function closeTask(
  prisma: PrismaClient,
  taskId: string,
  from: Task['state'][],
  state: FinalTaskState,
  data: Prisma.TaskUpdateManyMutationInput = {},
): Promise<boolean> {
  const row = await prisma.task.findUnique({ where: { id: taskId }, select: { progressReports: true } });
  const progressReports = endReports((row?.progressReports ?? []) as unknown as ProgressReport[], state) as unknown as Prisma.InputJsonValue;
  const updated = await prisma.task.updateMany({
    where: { id: taskId, state: { in: from } },
    data: { ...data, state, finishedAt: new Date(), progressReports },
  });
  return updated.count === 1;
}
