import { randomUUID } from 'node:crypto';
import { createRepository } from '@cistern/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScheduleTick } from '../src/schedules.ts';
import { syncKind } from './fixtures/sync-kind.ts';
import { Harness } from './harness.ts';

const h = new Harness();
beforeAll(() => h.start());
afterAll(() => h.stop());

describe('schedule ticks', () => {
  it('queue a sync, return the waiting twin, and queue nothing while a sync of the repository runs', async () => {
    const remote = await h.db.prisma.remote.create({ data: { name: `r-${randomUUID()}`, url: 'http://127.0.0.1:1', upstreamName: 'x/y' } });
    const repository = await createRepository(h.db.prisma, { name: `repo-${randomUUID()}`, remoteId: remote.id });
    const schedule = await h.db.prisma.schedule.create({ data: { name: `s-${randomUUID()}`, cron: '* * * * *', repositoryId: repository.id } });

    const first = await runScheduleTick(h.db.prisma, h.service, schedule.id, syncKind);
    expect(first).toMatchObject({ created: true });
    const second = await runScheduleTick(h.db.prisma, h.service, schedule.id, syncKind);
    expect(second).toEqual({ taskId: (first as { taskId: string }).taskId, created: false });

    await h.db.prisma.task.update({ where: { id: (first as { taskId: string }).taskId }, data: { state: 'running' } });
    const busy = await runScheduleTick(h.db.prisma, h.service, schedule.id, syncKind);
    expect(busy).toMatchObject({ skipped: expect.stringMatching(/still running/) });
    expect(await h.db.prisma.task.count({ where: { resource: `repository:${repository.id}` } })).toBe(1);
    expect((await h.db.prisma.schedule.findUniqueOrThrow({ where: { id: schedule.id } })).lastTaskId).toBe((first as { taskId: string }).taskId);
  });
});
