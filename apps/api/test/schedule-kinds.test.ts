import { createRedis, createScheduleWorker, createTaskQueue, createTaskWorker, redisConnectionOptions, TaskService } from '@cistern/queue';
import { orphanCleanupTask, scheduledOrphanCleanup } from '@cistern/storage-lifecycle';
import { syncTask } from '@cistern/sync';
import { TEST_REDIS_URL, waitFor } from '@cistern/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiHarness, remoteBody } from './harness.ts';

const h = new ApiHarness();
let repo: { id: string };
beforeAll(async () => {
  await h.start();
  const remote = (await h.post('/api/v1/remotes', remoteBody())).body;
  repo = (await h.post('/api/v1/repositories', { name: 'kinds', remote: remote.id })).body;
});
afterAll(() => h.stop());

/** The details of a 400, as path → message. */
async function refusal(method: 'post' | 'put' | 'patch', url: string, body: unknown): Promise<Record<string, string>> {
  const reply = await h[method](url, body);
  expect(reply.status).toBe(400);
  expect(reply.body.error.code).toBe('VALIDATION_FAILED');
  return Object.fromEntries(reply.body.error.details.map((d: { path: string; message: string }) => [d.path, d.message]));
}

describe('schedule kinds', () => {
  it('creates, lists, shows and updates an orphan-cleanup schedule, with its job scheduler in step', async () => {
    const created = await h.post('/api/v1/schedules', {
      kind: 'orphan-cleanup',
      name: 'weekly-cleanup',
      cron: '0 4 * * 0',
      params: { protectionTimeMinutes: 60 },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      kind: 'orphan-cleanup',
      params: { protectionTimeMinutes: 60, dryRun: false },
      repository: null,
      remote: null,
      mirror: null,
      enabled: true,
      lastTask: null,
    });
    const { id } = created.body;
    expect(await h.scheduleQueue.getJobScheduler(id)).toMatchObject({ pattern: '0 4 * * 0', tz: 'UTC' });
    const defaults = await h.post('/api/v1/schedules', { kind: 'orphan-cleanup', name: 'daily-cleanup', cron: '0 5 * * *', repository: null });
    expect(defaults.body.params).toEqual({ protectionTimeMinutes: 1440, dryRun: false });
    const sync = await h.post('/api/v1/schedules', { name: 'kinds-sync', cron: '0 3 * * *', repository: repo.id });
    expect(sync.body).toMatchObject({ kind: 'sync', repository: repo.id, remote: null, mirror: false, params: null });

    const cleanups = (await h.get('/api/v1/schedules?kind=orphan-cleanup')).body;
    expect(cleanups.results.map((s: { name: string }) => s.name)).toEqual(['daily-cleanup', 'weekly-cleanup']);
    expect((await h.get(`/api/v1/schedules?kind=sync&repository=${repo.id}`)).body.results.map((s: { id: string }) => s.id)).toEqual([sync.body.id]);
    expect((await h.get('/api/v1/schedules?kind=gc')).status).toBe(400);

    // params are replaced as a whole: what the patch leaves out takes its default.
    const patched = await h.patch(`/api/v1/schedules/${id}`, { params: { dryRun: true }, cron: '*/30 * * * *' });
    expect(patched.body).toMatchObject({
      kind: 'orphan-cleanup',
      cron: '*/30 * * * *',
      params: { protectionTimeMinutes: 1440, dryRun: true },
      repository: null,
    });
    expect((await h.scheduleQueue.getJobScheduler(id))?.pattern).toBe('*/30 * * * *');
    const replaced = await h.put(`/api/v1/schedules/${id}`, {
      kind: 'orphan-cleanup',
      name: 'weekly-cleanup',
      cron: '0 4 * * 0',
      params: { protectionTimeMinutes: 0 },
    });
    expect(replaced.body).toMatchObject({ params: { protectionTimeMinutes: 0, dryRun: false }, enabled: true });
    expect((await h.get(`/api/v1/schedules/${id}`)).body).toEqual(replaced.body);

    // A new kind drops the old kind's fields.
    const resynced = await h.patch(`/api/v1/schedules/${defaults.body.id}`, { kind: 'sync', repository: repo.id, mirror: true });
    expect(resynced.body).toMatchObject({ kind: 'sync', repository: repo.id, mirror: true, params: null });
    const recleaned = await h.patch(`/api/v1/schedules/${defaults.body.id}`, { kind: 'orphan-cleanup' });
    expect(recleaned.body).toMatchObject({ kind: 'orphan-cleanup', repository: null, mirror: null, params: { protectionTimeMinutes: 1440, dryRun: false } });
    for (const s of [created, defaults, sync]) expect((await h.delete(`/api/v1/schedules/${s.body.id}`)).status).toBe(204);
  });

  it('answers 400 naming the field when a schedule does not fit its kind', async () => {
    expect(await refusal('post', '/api/v1/schedules', { name: 's', cron: '0 3 * * *' })).toEqual({
      'body.repository': 'repository is required for a sync schedule',
    });
    expect(await refusal('post', '/api/v1/schedules', { kind: 'sync', name: 's', cron: '0 3 * * *', repository: null, params: {} })).toEqual({
      'body.repository': 'repository is required for a sync schedule',
      'body.params': 'params is not allowed for a sync schedule',
    });
    expect(
      await refusal('post', '/api/v1/schedules', { kind: 'orphan-cleanup', name: 's', cron: '0 3 * * *', repository: repo.id, remote: repo.id, mirror: false }),
    ).toEqual({
      'body.repository': 'repository is not allowed for an orphan-cleanup schedule',
      'body.remote': 'remote is not allowed for an orphan-cleanup schedule',
      'body.mirror': 'mirror is not allowed for an orphan-cleanup schedule',
    });
    const badParams = await refusal('post', '/api/v1/schedules', {
      kind: 'orphan-cleanup',
      name: 's',
      cron: '0 3 * * *',
      params: { protectionTimeMinutes: -1, dryRun: 'yes', force: true },
    });
    expect(Object.keys(badParams).sort()).toEqual(['body.params.dryRun', 'body.params.force', 'body.params.protectionTimeMinutes']);
    expect(await refusal('post', '/api/v1/schedules', { kind: 'gc', name: 's', cron: '0 3 * * *' })).toEqual({
      'body.kind': 'kind must be one of: sync, orphan-cleanup',
    });
    expect(await refusal('post', '/api/v1/schedules', { kind: 'orphan-cleanup', name: 's', cron: '61 * * * *' })).toHaveProperty(['body.cron']);

    const cleanup = (await h.post('/api/v1/schedules', { kind: 'orphan-cleanup', name: 'refusing', cron: '0 3 * * *' })).body;
    const sync = (await h.post('/api/v1/schedules', { name: 'refusing-sync', cron: '0 3 * * *', repository: repo.id })).body;
    expect(await refusal('patch', `/api/v1/schedules/${cleanup.id}`, { repository: repo.id })).toEqual({
      'body.repository': 'repository is not allowed for an orphan-cleanup schedule',
    });
    expect(await refusal('patch', `/api/v1/schedules/${sync.id}`, { params: { dryRun: true } })).toEqual({
      'body.params': 'params is not allowed for a sync schedule',
    });
    expect(await refusal('patch', `/api/v1/schedules/${cleanup.id}`, { kind: 'sync' })).toEqual({
      'body.repository': 'repository is required for a sync schedule',
    });
    // A body without kind is a sync schedule, on replace as on create.
    expect(await refusal('put', `/api/v1/schedules/${cleanup.id}`, { name: 'refusing', cron: '0 3 * * *', params: {} })).toEqual({
      'body.repository': 'repository is required for a sync schedule',
      'body.params': 'params is not allowed for a sync schedule',
    });
    expect((await h.get(`/api/v1/schedules/${cleanup.id}`)).body).toMatchObject({ kind: 'orphan-cleanup', params: { protectionTimeMinutes: 1440 } });
  });

  it('documents the request as one of the kinds, and the kind and params of every schedule', async () => {
    const doc = (await h.get('/openapi.json', null)).body;
    const request = doc.components.schemas.ScheduleRequest;
    expect(request.oneOf.map((o: { properties: { kind: { enum: string[] } } }) => o.properties.kind.enum)).toEqual([['sync'], ['orphan-cleanup']]);
    expect(request.oneOf[1].properties.params.properties.protectionTimeMinutes).toMatchObject({ type: 'integer', default: 1440 });
    expect(doc.paths['/api/v1/schedules'].post.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/ScheduleRequest' });
    expect(doc.components.schemas.Schedule.properties.kind.enum).toEqual(['sync', 'orphan-cleanup']);
    expect(doc.components.schemas.Schedule.properties.params).toBeDefined();
  });

  it('runs a scheduled orphan cleanup: each second a task of the kind, under the storage lock, that completes with its result', async () => {
    const s = (await h.post('/api/v1/schedules', { kind: 'orphan-cleanup', name: 'every-second', cron: '* * * * * *', params: { protectionTimeMinutes: 60 } }))
      .body;
    const connection = redisConnectionOptions(TEST_REDIS_URL);
    const queue = createTaskQueue({ connection, prefix: h.prefix });
    const redis = createRedis(TEST_REDIS_URL);
    const logger = h.resources.logger;
    const scheduleWorker = createScheduleWorker({
      prisma: h.prisma,
      tasks: new TaskService(h.prisma, queue, [syncTask, orphanCleanupTask], logger),
      kind: syncTask,
      others: [scheduledOrphanCleanup],
      connection,
      logger,
      prefix: h.prefix,
    });
    const taskWorker = createTaskWorker({
      prisma: h.prisma,
      connection,
      queue,
      redis,
      tasks: [orphanCleanupTask.bind({ prisma: h.prisma, storage: h.resources.storage })],
      logger,
      name: 'cleanup-worker',
      prefix: h.prefix,
    });
    const started = Date.now();
    try {
      // Ticks go on each second, so the schedule's last task may already be the next one: any completed cleanup is this schedule's.
      const task = await waitFor(
        'a completed scheduled cleanup',
        async () => (await h.get('/api/v1/tasks?kind=orphan-cleanup&state=completed')).body.results[0],
        10_000,
      );
      const { lastTask } = (await h.get(`/api/v1/schedules/${s.id}`)).body;
      expect((await h.get(`/api/v1/tasks/${lastTask}`)).body.kind).toBe('orphan-cleanup');
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(task).toMatchObject({
        kind: 'orphan-cleanup',
        resource: 'storage',
        params: { protectionTimeMinutes: 60, dryRun: false },
        result: { dryRun: false, protectionTimeMinutes: 60, manifests: 0, blobs: 0, remoteArtifacts: 0, bytesFreed: 0 },
      });
    } finally {
      await scheduleWorker.close();
      await taskWorker.close();
      await queue.close();
      redis.disconnect();
    }
    await h.delete(`/api/v1/schedules/${s.id}`);
  });
});
