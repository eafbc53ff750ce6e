/** One queue carries every task; the job name is the task kind. */
export const TASK_QUEUE = 'tasks';

/** Keys live under this prefix; tests pass their own so files never share a queue. */
export const DEFAULT_PREFIX = 'cistern';
