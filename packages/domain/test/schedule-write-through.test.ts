import { createRepository, type Database } from '@cistern/db';
import type { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scheduleService } from '../src/schedules/schedule-service.ts';
import { testDatabase } from './database.ts';

let db: Database;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ db, cleanup } = await testDatabase());
});
afterAll(() => cleanup());

/** A schedule queue whose Redis refuses every job scheduler while `down`. */
function flakyQueue() {
  const state = { down: false, schedulers: new Map<string, string>() };
  const refuse = () => {
    if (state.down) throw new Error('redis is down');
  };
  const queue = {
    upsertJobScheduler: async (id: string, repeat: { pattern: string }) => {
      refuse();
      state.schedulers.set(id, repeat.pattern);
    },
    removeJobScheduler: async (id: string) => {
      refuse();
      return state.schedulers.delete(id);
    },
  };
  return { state, queue: queue as unknown as Queue };
}

describe('schedule write-through', () => {
  it('undoes the row when Redis refuses its job scheduler, so the table and the schedulers agree', async () => {
    const { state, queue } = flakyQueue();
    const schedules = scheduleService({ prisma: db.prisma, scheduleQueue: queue });
    const repository = await createRepository(db.prisma, { name: 'scheduled' });
    const input = { name: 'nightly', cron: ' 0 3 * * * ', timezone: 'UTC', repository: repository.id, remote: null, mirror: false, enabled: true };

    state.down = true;
    await expect(schedules.create(input)).rejects.toThrow('redis is down');
    expect(await db.prisma.schedule.count()).toBe(0);

    state.down = false;
    const created = await schedules.create(input);
    expect(created.cron).toBe('0 3 * * *');
    expect(state.schedulers.get(created.id)).toBe('0 3 * * *');

    state.down = true;
    await expect(schedules.update(created.id, { cron: '*/5 * * * *', mirror: true })).rejects.toThrow('redis is down');
    expect(await db.prisma.schedule.findUniqueOrThrow({ where: { id: created.id } })).toMatchObject({ cron: '0 3 * * *', mirror: false });
    expect(state.schedulers.get(created.id)).toBe('0 3 * * *');
  });
});
