import { hashSecret, TokenService } from '@cistern/auth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, ApiHarness } from './harness.ts';

const h = new ApiHarness();
beforeAll(() => h.start());
afterAll(() => h.stop());

describe('distributions', () => {
  it('serves a repository, its latest version or one pinned by number, with a registryPath', async () => {
    const repo = (await h.post('/api/v1/repositories', { name: 'd-repo' })).body;
    const other = (await h.post('/api/v1/repositories', { name: 'd-other' })).body;
    const created = await h.post('/api/v1/distributions', { name: 'd1', basePath: 'library/app', repository: repo.id, private: true });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      basePath: 'library/app',
      registryPath: 'mirror.example.test/library/app',
      private: true,
      repository: repo.id,
      repositoryVersion: null,
    });
    const id = created.body.id;
    const pinned = await h.patch(`/api/v1/distributions/${id}`, { repositoryVersion: 0 });
    expect(pinned.status).toBe(200);
    expect(pinned.body).toMatchObject({ repository: repo.id, repositoryVersion: 0 });
    expect((await h.get(`/api/v1/distributions/${id}`)).body).toMatchObject({ repository: repo.id, repositoryVersion: 0 });
    expect((await h.prisma.distribution.findUniqueOrThrow({ where: { id } })).repositoryVersionId).not.toBeNull();
    // Naming the repository again, without a number, follows its latest version.
    expect((await h.patch(`/api/v1/distributions/${id}`, { repository: other.id })).body).toMatchObject({ repository: other.id, repositoryVersion: null });
    expect((await h.patch(`/api/v1/distributions/${id}`, { repository: repo.id, repositoryVersion: 0 })).body).toMatchObject({ repositoryVersion: 0 });
    expect((await h.patch(`/api/v1/distributions/${id}`, { repositoryVersion: null })).body).toMatchObject({ repository: repo.id, repositoryVersion: null });
    expect((await h.put(`/api/v1/distributions/${id}`, { name: 'd1', basePath: 'app', repository: repo.id })).body).toMatchObject({
      private: false,
      basePath: 'app',
    });
    expect((await h.post('/api/v1/distributions', { name: 'd2', basePath: 'Bad Path', repository: repo.id })).body.error.details[0].path).toBe('body.basePath');
    expect((await h.post('/api/v1/distributions', { name: 'd2', basePath: 'app', repository: repo.id })).status).toBe(409);
    expect((await h.get(`/api/v1/distributions?repository=${repo.id}&private=false`)).body.count).toBe(1);
    expect((await h.get('/api/v1/distributions?basePath=app')).body.results[0].id).toBe(id);
    expect((await h.delete(`/api/v1/distributions/${id}`)).status).toBe(204);
    expect((await h.delete(`/api/v1/distributions/${id}`)).status).toBe(404);
  });

  it('refuses a version without its repository, a version id, and a number the repository does not have', async () => {
    const repo = (await h.post('/api/v1/repositories', { name: 'd-refusals' })).body;
    const v0 = (await h.get(`/api/v1/repositories/${repo.id}/versions/0`)).body;
    const alone = await h.post('/api/v1/distributions', { name: 'r1', basePath: 'r1', repositoryVersion: 0 });
    expect(alone.status).toBe(400);
    expect(alone.body.error.details).toEqual([expect.objectContaining({ path: 'body.repository', message: expect.stringContaining('required') })]);
    const byId = await h.post('/api/v1/distributions', { name: 'r1', basePath: 'r1', repository: repo.id, repositoryVersion: v0.id });
    expect(byId.body.error.details).toEqual([expect.objectContaining({ path: 'body.repositoryVersion' })]);
    for (const repositoryVersion of [3, -1, 1.5]) {
      const reply = await h.post('/api/v1/distributions', { name: 'r1', basePath: 'r1', repository: repo.id, repositoryVersion });
      expect(reply.status, String(repositoryVersion)).toBe(400);
      expect(reply.body.error.details[0].path).toBe('body.repositoryVersion');
    }
    const unknown = await h.post('/api/v1/distributions', { name: 'r1', basePath: 'r1', repository: repo.id, repositoryVersion: 3 });
    expect(unknown.body.error).toMatchObject({ code: 'INVALID_REFERENCE', message: expect.stringContaining('has no version 3') });
    const created = (await h.post('/api/v1/distributions', { name: 'r1', basePath: 'r1', repository: repo.id })).body;
    const patched = await h.patch(`/api/v1/distributions/${created.id}`, { repositoryVersion: 9 });
    expect(patched.body.error).toMatchObject({ code: 'INVALID_REFERENCE', details: [expect.objectContaining({ path: 'body.repositoryVersion' })] });
    expect((await h.get(`/api/v1/distributions/${created.id}`)).body).toMatchObject({ repository: repo.id, repositoryVersion: null });
  });
});

describe('tokens and auth', () => {
  it('needs a bearer token on /api and answers 401 with a challenge', async () => {
    const none = await h.get('/api/v1/remotes', null);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    expect(none.body.error.code).toBe('UNAUTHORIZED');
    expect((await h.request('GET', '/api/v1/remotes', undefined, { token: null, headers: { authorization: 'Basic eDp5' } })).status).toBe(401);
    expect((await h.get('/api/v1/remotes', 'cst_wrong')).status).toBe(401);
    // The scheme is case-insensitive (RFC 9110 §11.1); the token is not.
    for (const scheme of ['bearer', 'BEARER']) {
      expect((await h.request('GET', '/api/v1/remotes', undefined, { token: null, headers: { authorization: `${scheme} ${ADMIN_TOKEN}` } })).status).toBe(200);
    }
    expect(
      (await h.request('GET', '/api/v1/remotes', undefined, { token: null, headers: { authorization: `Bearer ${ADMIN_TOKEN.toUpperCase()}` } })).status,
    ).toBe(401);
    for (const open of ['/healthz', '/readyz', '/openapi.json']) expect((await h.get(open, null)).status).toBe(200);
  });

  it('shows a secret once, stores only its hash, and revokes', async () => {
    const created = await h.post('/api/v1/tokens', { name: 'ci', scope: 'admin' });
    expect(created.status).toBe(201);
    const secret: string = created.body.secret;
    expect(secret).toMatch(/^cst_/);
    const row = await h.prisma.apiToken.findUniqueOrThrow({ where: { id: created.body.id } });
    expect(row.secretHash).toBe(hashSecret(secret));
    expect((await h.get('/api/v1/tokens', secret)).status).toBe(200);
    const listed = await h.get('/api/v1/tokens?scope=admin');
    expect(listed.text).not.toContain(secret);
    expect(listed.text).not.toContain(row.secretHash);
    expect((await h.get(`/api/v1/tokens/${created.body.id}`)).body.lastUsedAt).not.toBeNull();
    const revoked = await h.post(`/api/v1/tokens/${created.body.id}/revoke`);
    expect(revoked.body.revokedAt).not.toBeNull();
    expect((await h.get('/api/v1/remotes', secret)).status).toBe(401);
    expect((await h.get('/api/v1/tokens?revoked=true')).body.count).toBe(1);
    expect(h.logLines.join('\n')).not.toContain(secret);
  });

  it('gives pull tokens 403 here and checks their distributions', async () => {
    const repo = (await h.post('/api/v1/repositories', { name: 't-repo' })).body;
    const dist = (await h.post('/api/v1/distributions', { name: 't-dist', basePath: 't/dist', repository: repo.id })).body;
    const pull = await h.post('/api/v1/tokens', { name: 'puller', scope: 'pull', distributions: [dist.id] });
    expect(pull.body).toMatchObject({ scope: 'pull', distributions: [dist.id], allDistributions: false });
    const forbidden = await h.get('/api/v1/remotes', pull.body.secret);
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error.code).toBe('FORBIDDEN');
    const principal = await new TokenService(h.prisma).verify(pull.body.secret);
    expect(principal).toMatchObject({ scope: 'pull', distributionIds: [dist.id] });
    expect((await h.post('/api/v1/tokens', { name: 'p2', scope: 'pull' })).status).toBe(400);
    expect((await h.post('/api/v1/tokens', { name: 'p3', scope: 'admin', allDistributions: true })).status).toBe(400);
    expect((await h.post('/api/v1/tokens', { name: 'p4', scope: 'pull', distributions: ['00000000-0000-4000-8000-000000000000'] })).body.error.code).toBe(
      'INVALID_REFERENCE',
    );
    expect((await h.post('/api/v1/tokens', { name: 'puller', scope: 'pull', allDistributions: true })).status).toBe(409);
    const expired = await h.post('/api/v1/tokens', { name: 'old', scope: 'admin', expiresAt: '2000-01-01T00:00:00Z' });
    expect((await h.get('/api/v1/remotes', expired.body.secret)).status).toBe(401);
    expect((await h.post('/api/v1/tokens/not-a-uuid/revoke')).status).toBe(404);
  });
});
