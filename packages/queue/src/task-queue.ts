import { Queue, type ConnectionOptions } from 'bullmq';
import { DEFAULT_PREFIX, TASK_QUEUE } from './queue-names.ts';

export interface TaskQueueOptions {
  connection: ConnectionOptions;
  prefix?: string;
  /** Attempts for retryable failures, with exponential backoff. */
  attempts?: number;
  backoffMs?: number;
}

export function createTaskQueue(options: TaskQueueOptions): Queue {
  return new Queue(TASK_QUEUE, {
    connection: options.connection,
    prefix: options.prefix ?? DEFAULT_PREFIX,
    defaultJobOptions: {
      attempts: options.attempts ?? 3,
      backoff: { type: 'exponential', delay: options.backoffMs ?? 5000 },
      // The Task row is the record users read; BullMQ keeps jobs only briefly.
      removeOnComplete: { age: 3600, count: 1000 },
      removeOnFail: { age: 24 * 3600, count: 1000 },
    },
  });
}
