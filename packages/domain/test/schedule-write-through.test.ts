import { createRepository, type Database } from '@cistern/db';
import { isCisternError } from '@cistern/errors';
import { assertQueueReachable, closeQueue, createScheduleQueue, producerConnectionOptions } from '@cistern/queue';
import { startOwnRedis, waitFor, type OwnRedis } from '@cistern/testkit';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scheduleService } from '../src/schedules/schedule-service.ts';
import { testDatabase } from './database.ts';

// A Redis of this file's own: the tests make it refuse writes, and kill it.
let db: Database;
let cleanup: () => Promise<void>;
let redis: OwnRedis;
let queue: Queue;
beforeAll(async () => {
  ({ db, cleanup } = await testDatabase());
  redis = await startOwnRedis();
  queue = createScheduleQueue({ connection: producerConnectionOptions(redis.url), prefix: 'write-through' });
  queue.on('error', () => undefined);
  await queue.waitUntilReady();
});
afterAll(async () => {
  await closeQueue(queue);
  await redis.stop();
  await cleanup();
});

/** The cron of the schedule's job scheduler in Redis; undefined when it has none. */
const schedulerCron = async (id: string) => (await queue.getJobScheduler(id))?.pattern;

/** Redis answers, but refuses the Lua scripts BullMQ writes with (NOPERM): a refusal that is not an outage. */
async function refuseWrites(refuse: boolean): Promise<void> {
  const admin = new Redis(redis.url);
  try {
    await admin.acl('SETUSER', 'default', refuse ? '-@scripting' : '+@all');
  } finally {
    admin.disconnect();
  }
}

/** What the queue's connection says of Redis now. */
const reachable = () =>
  assertQueueReachable(queue, 'look').then(
    () => true,
    () => false,
  );

describe('schedule write-through', () => {
  it('undoes the row when Redis refuses its job scheduler, so the table and the schedulers agree', async () => {
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

    await refuseWrites(true);
    await expect(schedules.create(input)).rejects.toMatchObject({ name: 'ReplyError' });
    expect(await db.prisma.schedule.count()).toBe(0);

    await refuseWrites(false);
    const created = await schedules.create(input);
    expect(created.cron).toBe('0 3 * * *');
    expect(await schedulerCron(created.id)).toBe('0 3 * * *');

    await refuseWrites(true);
    await expect(schedules.update(created.id, { cron: '*/5 * * * *', mirror: true })).rejects.toMatchObject({ name: 'ReplyError' });
    await refuseWrites(false);
    expect(await db.prisma.schedule.findUniqueOrThrow({ where: { id: created.id } })).toMatchObject({ cron: '0 3 * * *', mirror: false });
    expect(await schedulerCron(created.id)).toBe('0 3 * * *');
  });

  it('undoes a change of kind as a whole: kind, params, repository and the scheduler as they were', async () => {
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

    await refuseWrites(true);
    await expect(schedules.update(cleanup.id, { kind: 'sync', repository: repository.id, cron: '0 5 * * *' })).rejects.toMatchObject({ name: 'ReplyError' });
    await refuseWrites(false);
    expect(await db.prisma.schedule.findUniqueOrThrow({ where: { id: cleanup.id } })).toMatchObject({
      kind: 'orphan-cleanup',
      cron: '0 4 * * *',
      repositoryId: null,
      params: { protectionTimeMinutes: 60, dryRun: false },
    });
    expect(await schedulerCron(cleanup.id)).toBe('0 4 * * *');

    expect(await schedules.update(cleanup.id, { kind: 'sync', repository: repository.id })).toMatchObject({
      kind: 'sync',
      repositoryId: repository.id,
      params: {},
    });
  });

  it('writes and deletes nothing, refusing at once with REDIS_UNAVAILABLE, while Redis is unreachable', async () => {
    const schedules = scheduleService({ prisma: db.prisma, scheduleQueue: queue });
    const repository = await createRepository(db.prisma, { name: 'unreachable' });
    const kept = await schedules.create({
      kind: 'sync',
      name: 'kept',
      cron: '0 6 * * *',
      timezone: 'UTC',
      repository: repository.id,
      remote: null,
      mirror: false,
      enabled: true,
    });
    const before = await db.prisma.schedule.count();
    redis.server.process.kill('SIGKILL');
    await waitFor('the queue to see Redis gone', async () => !(await reachable()));

    const refusals = [
      schedules.create({
        kind: 'sync',
        name: 'new',
        cron: '0 7 * * *',
        timezone: 'UTC',
        repository: repository.id,
        remote: null,
        mirror: false,
        enabled: true,
      }),
      schedules.update(kept.id, { cron: '0 8 * * *' }),
      schedules.delete(kept.id),
    ];
    for (const refused of await Promise.all(refusals.map((attempt) => attempt.catch((error: unknown) => error)))) {
      expect(isCisternError(refused, 'REDIS_UNAVAILABLE') && refused.retryable).toBe(true);
    }
    expect(await db.prisma.schedule.count()).toBe(before);
    expect(await db.prisma.schedule.findUniqueOrThrow({ where: { id: kept.id } })).toMatchObject({ cron: '0 6 * * *' });

    await redis.start();
    await waitFor('the queue to reconnect', reachable);
    expect(await schedules.update(kept.id, { cron: '0 8 * * *' })).toMatchObject({ cron: '0 8 * * *' });
    expect(await schedulerCron(kept.id)).toBe('0 8 * * *');
  });
});
