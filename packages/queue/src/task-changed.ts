import type { Task } from '@cistern/db';
import type { Logger } from 'pino';
import { resourceFields } from './repository-resource.ts';
import type { FinalTaskState } from './task-context.ts';
import type { TaskErrorRecord } from './task-errors.ts';
import { countFinishedTask } from './task-metrics.ts';

/** What a state change says of its task. */
export type ChangedTask = Pick<Task, 'id' | 'kind' | 'resource' | 'params' | 'startedAt'>;

/** The state a task moved to, and why when it failed or went back to waiting after an error. */
export interface TaskChange {
  state: Task['state'];
  /** When it ended; now by default. */
  at?: Date;
  /** A failed task's recorded error. */
  error?: TaskErrorRecord;
  /** What was thrown, for its stack. */
  cause?: unknown;
  /** Says why, when a task went back to waiting. */
  note?: string;
}

const FINAL: ReadonlySet<Task['state']> = new Set<FinalTaskState>(['completed', 'failed', 'canceled']);

/**
 * Records a state change that happened (the conditional update succeeded):
 * one log line with the task's id, kind, repository and new state (`info`;
 * `error` for a failure, with its code and message: the one place a failed
 * task's error is logged; `warn` for a task sent back to wait after an
 * error), and for a final state the task metrics.
 */
export function taskChanged(log: Logger, task: ChangedTask, change: TaskChange): void {
  const fields = { taskId: task.id, kind: task.kind, ...resourceFields(task.resource), state: change.state };
  if (change.error) {
    log.error({ ...fields, code: change.error.code, ...(change.cause instanceof Error ? { err: change.cause } : {}) }, `task failed: ${change.error.message}`);
  } else if (change.cause !== undefined) {
    log.warn({ ...fields, err: change.cause }, `task ${change.state}: ${change.note ?? ''}`);
  } else {
    log.info(fields, change.note ? `task ${change.state}: ${change.note}` : `task ${change.state}`);
  }
  if (FINAL.has(change.state)) countFinishedTask(task.kind, task.params, change.state as FinalTaskState, task.startedAt, change.at ?? new Date());
}
