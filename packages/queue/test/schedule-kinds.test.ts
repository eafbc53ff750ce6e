import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { runScheduleTick, type ParamsScheduledKind } from '../src/schedules.ts';
import { TaskService } from '../src/task-service.ts';
import { syncKind } from './fixtures/sync-kind.ts';
import { Harness } from './harness.ts';

/** A stand-in for a kind whose params a schedule row holds, as orphan-cleanup's are. */
const sweepKind = { name: 'sweep', params: z.strictObject({ keepMinutes: z.number().int().min(0).default(10), dryRun: z.boolean().default(false) }) } as const;
const scheduledSweep: ParamsScheduledKind<typeof sweepKind> = { kind: sweepKind, resource: () => 'store' };

const h = new Harness();
let tasks: TaskService;
beforeAll(async () => {
  await h.start();
  tasks = new TaskService(h.db.prisma, h.queue, [syncKind, sweepKind], h.logger);
});
afterAll(() => h.stop());

const sweepSchedule = (params: object) =>
  h.db.prisma.schedule.create({ data: { name: `s-${randomUUID()}`, kind: 'sweep', cron: '* * * * *', params: params as never } });

describe('schedule ticks of a kind other than sync', () => {
  it('queue a task of the kind with the params the row holds, under its resource, deduplicated like syncs', async () => {
    const schedule = await sweepSchedule({ keepMinutes: 60, dryRun: false });
    const first = await runScheduleTick(h.db.prisma, tasks, schedule.id, syncKind, [scheduledSweep]);
    expect(first).toMatchObject({ created: true });
    const taskId = (first as { taskId: string }).taskId;
    expect(await h.db.prisma.task.findUniqueOrThrow({ where: { id: taskId } })).toMatchObject({
      kind: 'sweep',
      resource: 'store',
      params: { keepMinutes: 60, dryRun: false },
      state: 'waiting',
    });
    expect(await h.queue.getJob(taskId)).toBeTruthy();
    expect(await runScheduleTick(h.db.prisma, tasks, schedule.id, syncKind, [scheduledSweep])).toEqual({ taskId, created: false });

    await h.db.prisma.task.update({ where: { id: taskId }, data: { state: 'running' } });
    expect(await runScheduleTick(h.db.prisma, tasks, schedule.id, syncKind, [scheduledSweep])).toEqual({
      skipped: `sweep task ${taskId} of store is still running`,
    });
    expect((await h.db.prisma.schedule.findUniqueOrThrow({ where: { id: schedule.id } })).lastTaskId).toBe(taskId);
  });

  it('skip, saying why, a kind this worker does not schedule and params its schema refuses', async () => {
    const schedule = await sweepSchedule({ keepMinutes: -5 });
    expect(await runScheduleTick(h.db.prisma, tasks, schedule.id, syncKind)).toEqual({ skipped: 'no task kind "sweep" is scheduled here' });
    expect(await runScheduleTick(h.db.prisma, tasks, schedule.id, syncKind, [scheduledSweep])).toMatchObject({
      skipped: expect.stringMatching(/^its params do not fit kind "sweep": .*keepMinutes/s),
    });
    expect(await h.db.prisma.task.count({ where: { kind: 'sweep', params: { equals: { keepMinutes: -5 } } } })).toBe(0);
  });
});
