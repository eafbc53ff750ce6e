import { metricsRegistry } from '@cistern/metrics';
import { Counter, Histogram } from 'prom-client';
import type { FinalTaskState } from './task-context.ts';
import type { TaskKind } from './task-definition.ts';

const FINAL_STATES: readonly FinalTaskState[] = ['completed', 'failed', 'canceled'];

const tasks = new Counter({
  name: 'cistern_tasks_total',
  help: 'Tasks that reached a final state (completed, failed or canceled) in this process, by task kind (dry-runs as <kind>-dry-run)',
  labelNames: ['kind', 'state'] as const,
  registers: [metricsRegistry],
});

const duration = new Histogram({
  name: 'cistern_task_duration_seconds',
  help: 'Run time of tasks that reached a final state, from their first start to their end, by task kind (dry-runs as <kind>-dry-run); tasks that never started are not in it',
  labelNames: ['kind', 'state'] as const,
  // From a no-op sync (a tenth of a second) to a large mirror (an hour and more).
  buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600],
  registers: [metricsRegistry],
});

/** The kinds whose dry-runs count apart (TaskKind's `dryRuns`), as countTaskKinds has met them. */
const dryRunKinds = new Set<string>();

/**
 * The `kind` label of a task: its kind, or `<kind>-dry-run` when the kind
 * declares dry-runs and its params say `dryRun: true`. A dry-run only plans,
 * so its failures and run times are not those of the work (an alert on
 * failed syncs must not fire for a failed plan).
 */
function metricKind(kind: string, params: unknown): string {
  const dryRun = typeof params === 'object' && params !== null && (params as { dryRun?: unknown }).dryRun === true;
  return dryRun && dryRunKinds.has(kind) ? `${kind}-dry-run` : kind;
}

/**
 * Starts `cistern_tasks_total` at 0 for every final state of each of `kinds`
 * (and of their dry-runs): a series that first appears at 1 has no increase,
 * so the first failure after a process start would go unseen by alerts.
 * Idempotent; called where tasks of those kinds can end.
 */
export function countTaskKinds(kinds: readonly Pick<TaskKind, 'name' | 'dryRuns'>[]): void {
  for (const kind of kinds) {
    if (kind.dryRuns) dryRunKinds.add(kind.name);
    for (const name of kind.dryRuns ? [kind.name, `${kind.name}-dry-run`] : [kind.name]) {
      for (const state of FINAL_STATES) tasks.inc({ kind: name, state }, 0);
    }
  }
}

/** Counts a task of `kind` with `params` that reached `state`; `startedAt` null when it never ran (canceled while waiting). */
export function countFinishedTask(kind: string, params: unknown, state: FinalTaskState, startedAt: Date | null, finishedAt: Date): void {
  const labels = { kind: metricKind(kind, params), state };
  tasks.inc(labels);
  if (startedAt) duration.observe(labels, Math.max(0, finishedAt.getTime() - startedAt.getTime()) / 1000);
}
