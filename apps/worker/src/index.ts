export { startWorker, type RunningWorker, type StartWorkerOptions } from './start-worker.ts';
export { taskHandlers } from './task-handlers.ts';
