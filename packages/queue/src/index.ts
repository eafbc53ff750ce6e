export { createRedis, redisConnectionOptions, assertRedisReachable, pingRedis, describeRedisUrl, RedisUnavailableError } from './redis.ts';
export { TASK_QUEUE, DEFAULT_PREFIX } from './queue-names.ts';
export {
  taskJobDataSchema,
  taskParamsSchemas,
  syncParamsSchema,
  tagParamsSchema,
  untagParamsSchema,
  removeParamsSchema,
  copyParamsSchema,
  repositoryResource,
  repositoryVersionHref,
  type TaskJobData,
  type TaskKind,
  type TaskParams,
  type SyncParams,
} from './task-kinds.ts';
export { TaskError, TaskCanceledError, toErrorRecord, isRetryable, type TaskErrorRecord } from './task-errors.ts';
export { createTaskQueue, type TaskQueueOptions } from './task-queue.ts';
export { onRedisReconnect } from './redis-reconnect.ts';
export { TaskService, TaskStateError, type CreateTaskInput, type CreatedTask } from './task-service.ts';
export { TaskContext, type ProgressReport } from './task-context.ts';
export { createTaskWorker, type TaskWorkerOptions, type TaskHandler, type TaskHandlers, type TaskResult, type TaskWarning } from './task-worker.ts';
export { reconcileTasks, type ReconcileOptions, type ReconcileResult } from './reconcile.ts';
export {
  SCHEDULE_QUEUE,
  SCHEDULE_TICK,
  createScheduleQueue,
  applySchedule,
  removeSchedule,
  restoreSchedules,
  runScheduleTick,
  createScheduleWorker,
  type ScheduleQueueOptions,
  type ScheduleWorkerOptions,
  type TickOutcome,
} from './schedules.ts';
