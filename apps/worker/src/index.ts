export { startWorker, type RunningWorker, type StartWorkerOptions } from './start-worker.ts';
export { taskRunners } from './task-runners.ts';
