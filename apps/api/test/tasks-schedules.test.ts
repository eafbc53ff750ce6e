import { createScheduleWorker, runScheduleTick, TaskService } from '@cistern/queue';
import { syncTask } from '@cistern/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL } from '@cistern/testkit';
import { ApiHarness, remoteBody } from './harness.ts';

const h = new ApiHarness();
let remote: { id: string };
let repo: { id: string };
beforeAll(async () => {
  await h.start();
  remote = (await h.post('/api/v1/remotes', remoteBody())).body;
  repo = (await h.post('/api/v1/repositories', { name: 'scheduled', remote: remote.id })).body;
});
afterAll(() => h.stop());

describe('tasks', () => {
  it('lists with filters, shows, cancels a waiting task and refuses to cancel a finished one', async () => {
    const { task } = (await h.post(`/api/v1/repositories/${repo.id}/sync`, {})).body;
    expect((await h.get(`/api/v1/tasks?state=waiting&kind=sync&repository=${repo.id}`)).body.results.map((t: { id: string }) => t.id)).toContain(task.id);
    expect((await h.get(`/api/v1/tasks?resource=repository:${repo.id}&state=completed`)).body.count).toBe(0);
    expect((await h.get('/api/v1/tasks?state=sleeping')).status).toBe(400);
    expect((await h.get(`/api/v1/tasks/${task.id}`)).body.progressReports).toEqual([]);
    const canceled = await h.post(`/api/v1/tasks/${task.id}/cancel`);
    expect(canceled.body.state).toBe('canceled');
    expect(await h.taskQueue.getJob(task.id)).toBeUndefined();
    await h.prisma.task.update({ where: { id: task.id }, data: { state: 'completed' } });
    expect((await h.post(`/api/v1/tasks/${task.id}/cancel`)).body.error.code).toBe('TASK_STATE_CONFLICT');
    expect((await h.post('/api/v1/tasks/00000000-0000-4000-8000-000000000000/cancel')).status).toBe(404);
  });

  it('moves a running task to canceling', async () => {
    const { task } = (await h.post(`/api/v1/repositories/${repo.id}/sync`, { mirror: true })).body;
    await h.prisma.task.update({ where: { id: task.id }, data: { state: 'running' } });
    expect((await h.post(`/api/v1/tasks/${task.id}/cancel`)).body.state).toBe('canceling');
  });
});

describe('schedules', () => {
  it('keeps a BullMQ job scheduler in step with the row: create, change, disable, delete', async () => {
    const created = await h.post('/api/v1/schedules', { name: 'nightly', cron: '0 3 * * *', timezone: 'Europe/Berlin', repository: repo.id });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ enabled: true, mirror: false, remote: null, lastTask: null });
    expect(new Date(created.body.nextRunAt).getTime()).toBeGreaterThan(Date.now());
    const id = created.body.id;
    expect(await h.scheduleQueue.getJobScheduler(id)).toMatchObject({ pattern: '0 3 * * *', tz: 'Europe/Berlin' });
    await h.patch(`/api/v1/schedules/${id}`, { cron: '*/10 * * * * *' });
    expect((await h.scheduleQueue.getJobScheduler(id))?.pattern).toBe('*/10 * * * * *');
    const disabled = await h.patch(`/api/v1/schedules/${id}`, { enabled: false });
    expect(disabled.body.nextRunAt).toBeNull();
    expect(await h.scheduleQueue.getJobScheduler(id)).toBeFalsy();
    await h.patch(`/api/v1/schedules/${id}`, { enabled: true });
    expect(await h.scheduleQueue.getJobScheduler(id)).toBeTruthy();
    expect((await h.get('/api/v1/schedules?enabled=true')).body.count).toBe(1);
    expect((await h.delete(`/api/v1/schedules/${id}`)).status).toBe(204);
    expect(await h.scheduleQueue.getJobScheduler(id)).toBeFalsy();
  });

  it('validates cron and time zone and references', async () => {
    const bad = await h.post('/api/v1/schedules', { name: 's', cron: '61 * * * *', timezone: 'Mars/Olympus', repository: repo.id, remote: 'x' });
    expect(bad.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(['body.cron', 'body.remote', 'body.timezone']);
    expect((await h.post('/api/v1/schedules', { name: 's', cron: '61 * * * *', repository: repo.id })).body.error.details[0].path).toBe('body.cron');
    expect((await h.post('/api/v1/schedules', { name: 's', cron: '* * *', repository: repo.id })).status).toBe(400);
    expect((await h.post('/api/v1/schedules', { name: 's', cron: '* * * * *', repository: '00000000-0000-4000-8000-000000000000' })).body.error.code).toBe(
      'INVALID_REFERENCE',
    );
  });

  it('names what is wrong with a cron expression: its field count, or the field at fault and its value, once', async () => {
    const cases: [string, string][] = [
      ['61 * * *', 'has 4 fields; a cron expression has 5 (minute hour day-of-month month day-of-week) or 6 with seconds first'],
      ['1 2 3 4 5 6 7', 'has 7 fields; a cron expression has 5 (minute hour day-of-month month day-of-week) or 6 with seconds first'],
      ['61 * * * *', 'the minute field (61) is invalid: Constraint error, got value 61 expected range 0-59'],
      ['0 24 * * *', 'the hour field (24) is invalid: Constraint error, got value 24 expected range 0-23'],
      ['61 0 * * * *', 'the second field (61) is invalid: Constraint error, got value 61 expected range 0-59'],
      ['0 0 * 13 *', 'the month field (13) is invalid: Constraint error, got value 13 expected range 1-12'],
      ['0 0 * * x', 'the day-of-week field (x) is invalid: Invalid characters, got value: x'],
      ['0 0 31 2 *', 'its fields never match a date together: Invalid explicit day of month definition'],
    ];
    for (const [cron, message] of cases) {
      const reply = await h.post('/api/v1/schedules', { name: 's', cron, repository: repo.id });
      expect([cron, reply.status, reply.body.error.details]).toEqual([cron, 400, [{ path: 'body.cron', code: 'custom', message }]]);
    }
    const { id } = (await h.post('/api/v1/schedules', { name: 'cron-patch', cron: '0 3 * * *', repository: repo.id })).body;
    expect((await h.patch(`/api/v1/schedules/${id}`, { cron: '0 3 * *' })).body.error.details).toEqual([
      {
        path: 'body.cron',
        code: 'custom',
        message: 'has 4 fields; a cron expression has 5 (minute hour day-of-month month day-of-week) or 6 with seconds first',
      },
    ]);
  });

  it('ticks through the same TaskService path as the API: a task row, a job, the waiting twin reused', async () => {
    const s = (await h.post('/api/v1/schedules', { name: 'fast', cron: '* * * * * *', repository: repo.id, mirror: true })).body;
    const service = new TaskService(h.prisma, h.taskQueue, [syncTask], h.resources.logger);
    const worker = createScheduleWorker({
      prisma: h.prisma,
      tasks: service,
      kind: syncTask,
      connection: { url: TEST_REDIS_URL, maxRetriesPerRequest: null },
      logger: h.resources.logger,
      prefix: h.prefix,
    });
    try {
      let shown = (await h.get(`/api/v1/schedules/${s.id}`)).body;
      for (let i = 0; i < 250 && !shown.lastTask; i++) {
        await new Promise((r) => setTimeout(r, 100));
        shown = (await h.get(`/api/v1/schedules/${s.id}`)).body;
      }
      const task = await h.prisma.task.findUniqueOrThrow({ where: { id: shown.lastTask } });
      expect(task).toMatchObject({ kind: 'sync', params: { repositoryId: repo.id, remoteId: remote.id, mirror: true } });
      expect(await h.taskQueue.getJob(task.id)).toBeTruthy();
      const again = await runScheduleTick(h.prisma, service, s.id, syncTask);
      expect(again).toMatchObject({ created: false });
    } finally {
      await worker.close();
    }
    await h.patch(`/api/v1/schedules/${s.id}`, { enabled: false });
    expect(await runScheduleTick(h.prisma, service, s.id, syncTask)).toEqual({ skipped: 'the schedule is disabled' });
  });
});
