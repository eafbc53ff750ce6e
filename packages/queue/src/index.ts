export {
  createRedis,
  redisConnectionOptions,
  producerConnectionOptions,
  FAIL_FAST_REDIS,
  redisConnected,
  assertRedisReachable,
  pingRedis,
  describeRedis,
  RedisUnavailableError,
} from './redis.ts';
export { assertQueueReachable, closeQueue, onReachableQueue, openProducerQueues } from './producer-queue.ts';
export { TASK_QUEUE } from './queue-names.ts';
export {
  defineTask,
  type TaskDefinition,
  type TaskHandler,
  type TaskKind,
  type TaskParams,
  type TaskParamsOf,
  type TaskResult,
  type TaskRunner,
  type TaskWarning,
} from './task-definition.ts';
export { TaskError, TaskCanceledError, toErrorRecord, isRetryable, type TaskErrorRecord } from './task-errors.ts';
export { repositoryResource } from './repository-resource.ts';
export { createTaskQueue, taskJobDataSchema, type TaskJobData, type TaskQueueOptions } from './task-queue.ts';
export { onRedisReconnect } from './redis-reconnect.ts';
export { exportQueueJobs } from './queue-metrics.ts';
export { createRedisWatch, watchBullmq, watchRedis } from './redis-watch.ts';
export { TaskService, TaskStateError, type CreateTaskInput, type CreatedTask } from './task-service.ts';
export { TaskContext, type ProgressReport } from './task-context.ts';
export { createTaskWorker, type TaskWorkerOptions } from './task-worker.ts';
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
  type ParamsScheduledKind,
  type ScheduledKind,
  type ScheduledSyncParams,
  type ScheduleQueueOptions,
  type ScheduleWorkerOptions,
  type TickOutcome,
} from './schedules.ts';
