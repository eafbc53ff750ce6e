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
    const input = {
      kind: 'sync' as const,
      name: 'nightly',
      cron: ' 0 3 * * * ',
      timezone: 'UTC',
      repository: repository.id,
      remote: null,
      mirror: false,
      enabled: true,
    };

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

  it('undoes a change of kind as a whole: kind, params, repository and the scheduler as they were', async () => {
    const { state, queue } = flakyQueue();
    const schedules = scheduleService({ prisma: db.prisma, scheduleQueue: queue });
    const repository = await createRepository(db.prisma, { name: 'rescheduled' });
    const cleanup = await schedules.create({
      kind: 'orphan-cleanup',
      name: 'cleanup',
      cron: '0 4 * * *',
      timezone: 'UTC',
      enabled: true,
      params: { protectionTimeMinutes: 60, dryRun: false },
    });
    expect(cleanup).toMatchObject({ kind: 'orphan-cleanup', repositoryId: null, params: { protectionTimeMinutes: 60, dryRun: false } });

    state.down = true;
    await expect(schedules.update(cleanup.id, { kind: 'sync', repository: repository.id, cron: '0 5 * * *' })).rejects.toThrow('redis is down');
    expect(await db.prisma.schedule.findUniqueOrThrow({ where: { id: cleanup.id } })).toMatchObject({
      kind: 'orphan-cleanup',
      cron: '0 4 * * *',
      repositoryId: null,
      params: { protectionTimeMinutes: 60, dryRun: false },
    });
    expect(state.schedulers.get(cleanup.id)).toBe('0 4 * * *');

    state.down = false;
    expect(await schedules.update(cleanup.id, { kind: 'sync', repository: repository.id })).toMatchObject({
      kind: 'sync',
      repositoryId: repository.id,
      params: {},
    });
  });
});
