import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiHarness } from './harness.ts';

const h = new ApiHarness();
beforeAll(() => h.start());
afterAll(() => h.stop());

const digest = `sha256:${'a'.repeat(64)}`;

describe('content actions', () => {
  it('queue a task per action on the repository, with the params of the body', async () => {
    const source = (await h.post('/api/v1/repositories', { name: `src-${randomUUID()}` })).body;
    const target = (await h.post('/api/v1/repositories', { name: `dst-${randomUUID()}` })).body;
    const cases = [
      ['tag', { tag: 'stable', digest }, { tag: 'stable', digest }],
      ['untag', { tags: ['old'] }, { tags: ['old'] }],
      ['remove', { tags: ['old'] }, { digests: [], tags: ['old'] }],
      ['copy', { sourceRepositoryId: source.id, tags: ['latest'] }, { sourceRepositoryId: source.id, tags: ['latest'], digests: [] }],
    ] as const;
    for (const [kind, body, params] of cases) {
      const reply = await h.post(`/api/v1/repositories/${target.id}/${kind}`, body);
      expect(reply.status, kind).toBe(202);
      expect(reply.body.task).toMatchObject({ kind, state: 'waiting', resource: `repository:${target.id}`, params: { repositoryId: target.id, ...params } });
      expect((await h.taskQueue.getJob(reply.body.task.id))?.name).toBe(kind);
    }
  });

  it('reject bad bodies with every bad field, unknown repositories and unknown sources', async () => {
    const repo = (await h.post('/api/v1/repositories', { name: `r-${randomUUID()}` })).body;
    const bad = await h.post(`/api/v1/repositories/${repo.id}/tag`, { tag: 'not a tag!', digest: 'sha256:ABC', extra: 1 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(['body.digest', 'body.extra', 'body.tag']);
    expect((await h.post(`/api/v1/repositories/${repo.id}/remove`, {})).status).toBe(400);
    expect((await h.post(`/api/v1/repositories/${randomUUID()}/untag`, { tags: ['x'] })).status).toBe(404);
    const copy = await h.post(`/api/v1/repositories/${repo.id}/copy`, { sourceRepositoryId: randomUUID() });
    expect(copy.status).toBe(400);
    expect(copy.body.error.code).toBe('INVALID_REFERENCE');
  });
});
