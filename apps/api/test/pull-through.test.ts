import { canPull, TokenService } from '@cistern/auth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiHarness, remoteBody } from './harness.ts';

// The management side of pull-through caching: distributions of a remote,
// remotes of many upstream repositories, cache repositories, and pull tokens
// scoped by base path.
const h = new ApiHarness();
let many: { id: string; name: string };
beforeAll(async () => {
  await h.start();
  many = (await h.post('/api/v1/remotes', remoteBody({ name: 'hub', url: 'https://docker.io', upstreamName: null, upstreamRepositories: ['library/*'] }))).body;
});
afterAll(() => h.stop());

const MISSING = '00000000-0000-4000-8000-000000000000';

describe('remotes of many upstream repositories', () => {
  it('take no upstreamName and a list of names and globs, on create, replace and patch', async () => {
    expect((await h.get(`/api/v1/remotes/${many.id}`)).body).toMatchObject({ upstreamName: null, upstreamRepositories: ['library/*'] });
    const one = (await h.post('/api/v1/remotes', remoteBody({ name: 'one', url: 'https://docker.io', upstreamName: 'alpine' }))).body;
    expect(one).toMatchObject({ upstreamName: 'library/alpine', upstreamRepositories: [] });
    const patched = await h.patch(`/api/v1/remotes/${one.id}`, { upstreamName: null, upstreamRepositories: ['org/**', 'team/app'] });
    expect(patched.body).toMatchObject({ upstreamName: null, upstreamRepositories: ['org/**', 'team/app'] });
    // A replace leaves out what it does not give: no upstreamName, no list.
    expect((await h.put(`/api/v1/remotes/${one.id}`, { name: 'one', url: 'https://docker.io' })).body).toMatchObject({
      upstreamName: null,
      upstreamRepositories: [],
    });
    const bad = await h.patch(`/api/v1/remotes/${one.id}`, { upstreamRepositories: ['Library/*'] });
    expect(bad.body.error.details[0].path).toBe('body.upstreamRepositories.0');
    expect((await h.delete(`/api/v1/remotes/${one.id}`)).status).toBe(204);
  });
});

describe('pull-through distributions', () => {
  it('serve a remote: shown with remote, defaults, filter, and PATCH switching to a repository and back', async () => {
    const created = await h.post('/api/v1/distributions', { name: 'cache', basePath: 'cache', remote: many.id });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      remote: many.id,
      repository: null,
      repositoryVersion: null,
      registryMirror: false,
      tagTtlSeconds: 300,
      registryPath: 'mirror.example.test/cache',
    });
    const id = created.body.id;
    const repo = (await h.post('/api/v1/repositories', { name: 'pt-served' })).body;
    const plain = (await h.post('/api/v1/distributions', { name: 'pt-plain', basePath: 'pt/plain', repository: repo.id })).body;
    expect(plain).toMatchObject({ repository: repo.id, repositoryVersion: null, remote: null, registryMirror: false });
    expect((await h.get(`/api/v1/distributions?remote=${many.id}`)).body.results.map((d: { id: string }) => d.id)).toEqual([id]);

    const toRepository = await h.patch(`/api/v1/distributions/${id}`, { repository: repo.id });
    expect(toRepository.body).toMatchObject({ repository: repo.id, repositoryVersion: null, remote: null });
    expect((await h.get(`/api/v1/distributions?remote=${many.id}`)).body.count).toBe(0);
    const back = await h.patch(`/api/v1/distributions/${id}`, { remote: many.id, tagTtlSeconds: 60 });
    expect(back.body).toMatchObject({ repository: null, repositoryVersion: null, remote: many.id, tagTtlSeconds: 60 });
    const stored = await h.prisma.distribution.findUniqueOrThrow({ where: { id } });
    expect(stored).toMatchObject({ remoteId: many.id, repositoryId: null, repositoryVersionId: null, tagTtlSeconds: 60 });
    // A pinned distribution switches too, its pin gone with its repository.
    await h.patch(`/api/v1/distributions/${plain.id}`, { repositoryVersion: 0 });
    expect((await h.patch(`/api/v1/distributions/${plain.id}`, { remote: many.id })).body).toMatchObject({ repositoryVersion: null, remote: many.id });
    expect((await h.put(`/api/v1/distributions/${plain.id}`, { name: 'pt-plain', basePath: 'pt/plain', repository: repo.id })).body).toMatchObject({
      remote: null,
      repository: repo.id,
      tagTtlSeconds: 300,
    });
  });

  it('name what is wrong with the source: neither, both, a pin or a mirror without repository or remote, a remote that does not exist', async () => {
    const repo = (await h.post('/api/v1/repositories', { name: 'pt-refusals' })).body;
    const refused = async (body: Record<string, unknown>) => {
      const reply = await h.post('/api/v1/distributions', { name: 'pt-bad', basePath: 'pt/bad', ...body });
      expect(reply.status, JSON.stringify(body)).toBe(400);
      return reply.body.error;
    };
    expect((await refused({})).details).toEqual([expect.objectContaining({ path: 'body.repository', message: expect.stringContaining('or else a remote') })]);
    expect((await refused({ repository: repo.id, remote: many.id })).details).toEqual([
      expect.objectContaining({ path: 'body.remote', message: expect.stringContaining('not both') }),
    ]);
    expect((await refused({ remote: many.id, repositoryVersion: 0 })).details[0].path).toBe('body.repositoryVersion');
    expect((await refused({ repository: repo.id, registryMirror: true })).details[0].path).toBe('body.registryMirror');
    for (const tagTtlSeconds of [0, 86_401, 1.5]) expect((await refused({ remote: many.id, tagTtlSeconds })).details[0].path).toBe('body.tagTtlSeconds');
    const unknown = await refused({ remote: MISSING });
    expect(unknown).toMatchObject({ code: 'INVALID_REFERENCE', details: [expect.objectContaining({ path: 'body.remote' })] });
    expect(await h.prisma.distribution.count({ where: { name: 'pt-bad' } })).toBe(0);
  });

  it('allow one registry mirror: a second answers 409 naming the first', async () => {
    const first = await h.post('/api/v1/distributions', { name: 'hub-mirror', basePath: 'hub', remote: many.id, registryMirror: true });
    expect(first.body).toMatchObject({ registryMirror: true });
    const second = (await h.post('/api/v1/distributions', { name: 'other-mirror', basePath: 'other', remote: many.id })).body;
    for (const reply of [
      await h.post('/api/v1/distributions', { name: 'third', basePath: 'third', remote: many.id, registryMirror: true }),
      await h.patch(`/api/v1/distributions/${second.id}`, { registryMirror: true }),
    ]) {
      expect(reply.status).toBe(409);
      expect(reply.body.error).toMatchObject({ code: 'ALREADY_EXISTS', message: expect.stringContaining('"hub-mirror"') });
      expect(reply.body.error.details[0].path).toBe('body.registryMirror');
    }
    // The mirror itself may change, and a switch to a repository ends its being the mirror.
    expect((await h.patch(`/api/v1/distributions/${first.body.id}`, { tagTtlSeconds: 10 })).status).toBe(200);
    const repo = (await h.post('/api/v1/repositories', { name: 'pt-mirror-repo' })).body;
    expect((await h.patch(`/api/v1/distributions/${first.body.id}`, { repository: repo.id })).body).toMatchObject({ registryMirror: false, remote: null });
    expect((await h.patch(`/api/v1/distributions/${second.id}`, { registryMirror: true })).body.registryMirror).toBe(true);
  });

  it('settle a race for the registry mirror: of two asking at once, one is it and the other answers 409 naming it', async () => {
    await h.prisma.distribution.updateMany({ data: { registryMirror: false } });
    for (let round = 0; round < 5; round += 1) {
      const replies = await Promise.all(
        ['a', 'b'].map((side) =>
          h.post('/api/v1/distributions', { name: `race-${round}-${side}`, basePath: `race/${round}/${side}`, remote: many.id, registryMirror: true }),
        ),
      );
      const winner = replies.find((r) => r.status === 201);
      const loser = replies.find((r) => r.status !== 201);
      expect(loser?.status, `round ${round}`).toBe(409);
      expect(loser?.body.error.message).toContain(`"${winner?.body.name}"`);
      expect((await h.delete(`/api/v1/distributions/${winner?.body.id}`)).status).toBe(204);
    }
  });

  it('keep a remote from being deleted, and leave their cache repositories when deleted', async () => {
    const remote = (await h.post('/api/v1/remotes', remoteBody({ name: 'pt-used', upstreamName: null }))).body;
    const dist = (await h.post('/api/v1/distributions', { name: 'pt-used-cache', basePath: 'pt/used', remote: remote.id })).body;
    const inUse = await h.delete(`/api/v1/remotes/${remote.id}`);
    expect(inUse.status).toBe(409);
    expect(inUse.body.error).toMatchObject({ code: 'IN_USE', message: expect.stringContaining('distribution "pt-used-cache"') });

    // What the registry creates on a first pull: a repository of the distribution's, named after it.
    const cached = (await h.post('/api/v1/repositories', { name: 'pt/used/team/app', remote: remote.id, upstreamName: 'team/app' })).body;
    expect(cached.pullThrough).toBeNull();
    await h.prisma.repository.update({ where: { id: cached.id }, data: { pullThroughId: dist.id } });
    expect((await h.get(`/api/v1/repositories/${cached.id}`)).body).toMatchObject({ pullThrough: dist.id, upstreamName: 'team/app' });
    expect((await h.get(`/api/v1/repositories?pullThrough=${dist.id}`)).body.results.map((r: { id: string }) => r.id)).toEqual([cached.id]);
    expect((await h.patch(`/api/v1/repositories/${cached.id}`, { description: 'kept' })).body.pullThrough).toBe(dist.id);
    // Its upstreamName is what the cache holds: changed (or left out of a replace), the cache would serve one image under another's name.
    for (const reply of [
      await h.patch(`/api/v1/repositories/${cached.id}`, { upstreamName: 'team/other' }),
      await h.put(`/api/v1/repositories/${cached.id}`, { name: 'pt/used/team/app', remote: remote.id, description: 'kept' }),
    ]) {
      expect(reply.status).toBe(400);
      expect(reply.body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: [expect.objectContaining({ path: 'body.upstreamName' })] });
    }
    expect(
      (await h.put(`/api/v1/repositories/${cached.id}`, { name: 'pt/used/team/app', remote: remote.id, upstreamName: 'team/app', description: 'kept' })).status,
    ).toBe(200);
    // Pointed at another remote, it would serve what this one fetched under the same names.
    const other = (await h.post('/api/v1/remotes', remoteBody({ name: 'pt-other', upstreamName: null }))).body;
    const switched = await h.patch(`/api/v1/distributions/${dist.id}`, { remote: other.id });
    expect(switched.status).toBe(409);
    expect(switched.body.error).toMatchObject({ code: 'IN_USE', message: expect.stringContaining('"pt/used/team/app"') });
    expect((await h.patch(`/api/v1/distributions/${dist.id}`, { remote: remote.id, tagTtlSeconds: 30 })).status).toBe(200);
    expect((await h.delete(`/api/v1/distributions/${dist.id}`)).status).toBe(204);
    expect((await h.get(`/api/v1/repositories/${cached.id}`)).body).toMatchObject({ pullThrough: null, upstreamName: 'team/app', description: 'kept' });
    // An ordinary repository from then on: its upstreamName is its own again.
    expect((await h.patch(`/api/v1/repositories/${cached.id}`, { upstreamName: 'team/other' })).body.upstreamName).toBe('team/other');
  });
});

describe('syncs from a remote of many upstream repositories', () => {
  it('need the repository to name its upstream repository, refused when requested or scheduled', async () => {
    const repo = (await h.post('/api/v1/repositories', { name: 'pt-sync', remote: many.id })).body;
    expect(repo.upstreamName).toBeNull();
    const tasksBefore = await h.prisma.task.count();
    const refused = await h.post(`/api/v1/repositories/${repo.id}/sync`, {});
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: 'UPSTREAM_NAME_MISSING', message: expect.stringContaining('remote "hub"') });
    const named = (await h.post('/api/v1/remotes', remoteBody({ name: 'pt-one' }))).body;
    const other = (await h.post('/api/v1/repositories', { name: 'pt-sync-other', remote: named.id })).body;
    expect((await h.post(`/api/v1/repositories/${other.id}/sync`, { remote: many.id })).body.error.code).toBe('UPSTREAM_NAME_MISSING');
    const schedule = { name: 'pt-nightly', cron: '0 3 * * *', repository: repo.id };
    expect((await h.post('/api/v1/schedules', schedule)).body.error.code).toBe('UPSTREAM_NAME_MISSING');
    expect(await h.prisma.task.count()).toBe(tasksBefore);
    expect(await h.prisma.schedule.count({ where: { name: 'pt-nightly' } })).toBe(0);

    expect((await h.patch(`/api/v1/repositories/${repo.id}`, { upstreamName: 'Library/Alpine' })).body.error.details[0].path).toBe('body.upstreamName');
    expect((await h.patch(`/api/v1/repositories/${repo.id}`, { upstreamName: 'library/alpine' })).body.upstreamName).toBe('library/alpine');
    expect((await h.post(`/api/v1/repositories/${repo.id}/sync`, {})).status).toBe(202);
    const created = await h.post('/api/v1/schedules', schedule);
    expect(created.status).toBe(201);
    const moved = await h.patch(`/api/v1/schedules/${created.body.id}`, { repository: other.id, remote: many.id });
    expect(moved.body.error.code).toBe('UPSTREAM_NAME_MISSING');
    expect((await h.patch(`/api/v1/schedules/${created.body.id}`, { remote: MISSING })).body.error).toMatchObject({
      code: 'INVALID_REFERENCE',
      details: [expect.objectContaining({ path: 'body.remote' })],
    });
  });
});

describe('pull tokens with base paths', () => {
  it('reach the names their base paths reach, beside their distributions', async () => {
    const created = await h.post('/api/v1/tokens', { name: 'cache-puller', scope: 'pull', basePaths: ['cache/*', 'team/app', 'cache/*'] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ scope: 'pull', allDistributions: false, distributions: [], basePaths: ['cache/*', 'team/app'] });
    expect((await h.get(`/api/v1/tokens/${created.body.id}`)).body.basePaths).toEqual(['cache/*', 'team/app']);
    const principal = await new TokenService(h.prisma).verify(created.body.secret);
    expect(principal).toMatchObject({ scope: 'pull', basePaths: ['cache/*', 'team/app'] });
    if (!principal) throw new Error('the token does not verify');
    expect(canPull(principal, MISSING, 'cache/library/alpine')).toBe(true);
    expect(canPull(principal, MISSING, 'team/app')).toBe(true);
    expect(canPull(principal, MISSING, 'team/app2')).toBe(false);
    expect(canPull(principal, MISSING, 'cached/alpine')).toBe(false);
  });

  it('refuses base paths on admin tokens, beside allDistributions, malformed, or too many', async () => {
    const refused = async (body: Record<string, unknown>) => {
      const reply = await h.post('/api/v1/tokens', { name: 'bp-bad', ...body });
      expect(reply.status, JSON.stringify(body)).toBe(400);
      return reply.body.error;
    };
    expect(await refused({ scope: 'admin', basePaths: ['cache/*'] })).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('admin') });
    expect((await refused({ scope: 'pull', allDistributions: true, basePaths: ['cache/*'] })).code).toBe('VALIDATION_FAILED');
    for (const entry of ['*', 'cache/**', 'Cache/*', 'cache/', '/cache']) {
      expect((await refused({ scope: 'pull', basePaths: ['ok', entry] })).details[0].path, entry).toBe('body.basePaths.1');
    }
    const many = Array.from({ length: 101 }, (_, i) => `app${i}`);
    expect((await refused({ scope: 'pull', basePaths: many })).details[0].path).toBe('body.basePaths');
    expect(await h.prisma.apiToken.count({ where: { name: 'bp-bad' } })).toBe(0);
  });
});
