import type { Schedule } from '@cistern/db';
import { applySchedule } from '@cistern/queue';
import type { Queue } from 'bullmq';

/**
 * The row is written first, then its BullMQ job scheduler; if Redis refuses,
 * `undo` puts the row back as it was so the table and the schedulers agree,
 * and the queue's error is rethrown.
 */
export async function writeThrough(queue: Queue, write: () => Promise<Schedule>, undo: (row: Schedule) => Promise<unknown>): Promise<Schedule> {
  const row = await write();
  try {
    await applySchedule(queue, row);
  } catch (error) {
    await undo(row);
    throw error;
  }
  return row;
}
