import type { Schedule } from '@cistern/db';
import { applySchedule, assertQueueReachable, onReachableQueue } from '@cistern/queue';
import type { Queue } from 'bullmq';

/** What a refused schedule write could not do, in "cannot … now". */
const SAVE_THE_SCHEDULE = 'save the schedule';

/**
 * The row is written first, then its BullMQ job scheduler; if Redis refuses,
 * `undo` puts the row back as it was so the table and the schedulers agree,
 * and the queue's error is rethrown. While Redis is unreachable nothing is
 * written: RedisUnavailableError (REDIS_UNAVAILABLE), at once.
 */
export async function writeThrough(queue: Queue, write: () => Promise<Schedule>, undo: (row: Schedule) => Promise<unknown>): Promise<Schedule> {
  await assertQueueReachable(queue, SAVE_THE_SCHEDULE);
  const row = await write();
  try {
    await onReachableQueue(queue, SAVE_THE_SCHEDULE, () => applySchedule(queue, row));
  } catch (error) {
    await undo(row);
    throw error;
  }
  return row;
}
