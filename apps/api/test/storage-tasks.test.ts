import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiHarness } from './harness.ts';

const h = new ApiHarness();
beforeAll(() => h.start());
afterAll(() => h.stop());

const UNKNOWN = '00000000-0000-4000-8000-000000000000';

describe('storage tasks', () => {
  it('queues a reclaim of existing repositories as a storage task: 202 with the task, keepVersions 1 unless given', async () => {
    const a = (await h.post('/api/v1/repositories', { name: 'reclaim-a' })).body;
    const b = (await h.post('/api/v1/repositories', { name: 'reclaim-b' })).body;
    const accepted = await h.post('/api/v1/repositories/reclaim', { repositories: [a.id, b.id] });
    expect(accepted.status).toBe(202);
    expect(accepted.body.task).toMatchObject({
      kind: 'reclaim-space',
      state: 'waiting',
      resource: 'storage',
      params: { repositories: [a.id, b.id], keepVersions: 1 },
      result: null,
    });
    expect(await h.taskQueue.getJob(accepted.body.task.id)).toBeTruthy();
    const kept = await h.post('/api/v1/repositories/reclaim', { repositories: [a.id], keepVersions: 3 });
    expect(kept.body.task.params).toEqual({ repositories: [a.id], keepVersions: 3 });
    // An id in upper case names the same repository, as it does everywhere else in the API.
    expect((await h.post('/api/v1/repositories/reclaim', { repositories: [String(a.id).toUpperCase()] })).status).toBe(202);
  });

  it('refuses bad input with 400, and unknown repositories with INVALID_REFERENCE naming them', async () => {
    for (const body of [
      {},
      { repositories: [] },
      { repositories: ['nope'] },
      { repositories: [UNKNOWN], keepVersions: 0 },
      { repositories: [UNKNOWN], extra: 1 },
    ]) {
      const refused = await h.post('/api/v1/repositories/reclaim', body);
      expect([refused.status, refused.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
    }
    const known = (await h.post('/api/v1/repositories', { name: 'reclaim-known' })).body;
    const queued = await h.prisma.task.count();
    const unknown = await h.post('/api/v1/repositories/reclaim', { repositories: [known.id, UNKNOWN] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatchObject({
      code: 'INVALID_REFERENCE',
      message: `no such repository: ${UNKNOWN}`,
      details: [{ path: 'body.repositories' }],
    });
    expect(await h.prisma.task.count()).toBe(queued);
  });

  it('queues an orphan cleanup on the same resource', async () => {
    const accepted = await h.post('/api/v1/orphans/cleanup', { dryRun: true });
    expect(accepted.status).toBe(202);
    expect(accepted.body.task).toMatchObject({ kind: 'orphan-cleanup', resource: 'storage', params: { dryRun: true, protectionTimeMinutes: 1440 } });
  });
});
