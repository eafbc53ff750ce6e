/** One queue carries every task; the job name is the task kind. */
export const TASK_QUEUE = 'tasks';
