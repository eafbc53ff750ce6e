import { metricsRegistry } from '@cistern/metrics';
import { Counter, Histogram } from 'prom-client';
import type { FinalTaskState } from './task-context.ts';

const tasks = new Counter({
  name: 'cistern_tasks_total',
  help: 'Tasks that reached a final state (completed, failed or canceled) in this process, by task kind',
  labelNames: ['kind', 'state'] as const,
  registers: [metricsRegistry],
});

const duration = new Histogram({
  name: 'cistern_task_duration_seconds',
  help: 'Run time of tasks that reached a final state, from their first start to their end; tasks that never started are not in it',
  labelNames: ['kind', 'state'] as const,
  // From a no-op sync (a tenth of a second) to a large mirror (an hour and more).
  buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600],
  registers: [metricsRegistry],
});

/** Counts a task that reached `state`; `startedAt` null when it never ran (canceled while waiting). */
export function countFinishedTask(kind: string, state: FinalTaskState, startedAt: Date | null, finishedAt: Date): void {
  tasks.inc({ kind, state });
  if (startedAt) duration.observe({ kind, state }, Math.max(0, finishedAt.getTime() - startedAt.getTime()) / 1000);
}
