import { hashSecret, TokenService } from '@cistern/auth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiHarness } from './harness.ts';

const h = new ApiHarness();
beforeAll(() => h.start());
afterAll(() => h.stop());

describe('distributions', () => {
  it('serves a repository or a pinned version, exactly one, with a registryPath', async () => {
    const repo = (await h.post('/api/v1/repositories', { name: 'd-repo' })).body;
    const created = await h.post('/api/v1/distributions', { name: 'd1', basePath: 'library/app', repository: repo.id, private: true });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ basePath: 'library/app', registryPath: 'mirror.example.test/library/app', private: true, repositoryVersion: null });
    const id = created.body.id;
    const v0 = (await h.get(`/api/v1/repositories/${repo.id}/versions/0`)).body;
    const both = await h.patch(`/api/v1/distributions/${id}`, { repositoryVersion: v0.id });
    expect(both.status).toBe(400);
    const pinned = await h.patch(`/api/v1/distributions/${id}`, { repository: null, repositoryVersion: v0.id });
    expect(pinned.body).toMatchObject({ repository: null, repositoryVersion: v0.id });
    expect((await h.put(`/api/v1/distributions/${id}`, { name: 'd1', basePath: 'app', repository: repo.id })).body).toMatchObject({
      private: false,
      basePath: 'app',
    });
    expect((await h.post('/api/v1/distributions', { name: 'd2', basePath: 'Bad Path', repository: repo.id })).body.error.details[0].path).toBe('body.basePath');
    expect((await h.post('/api/v1/distributions', { name: 'd2', basePath: 'x' })).body.error.details[0].message).toContain('exactly one');
    expect((await h.post('/api/v1/distributions', { name: 'd2', basePath: 'app', repository: repo.id })).status).toBe(409);
    expect((await h.get(`/api/v1/distributions?repository=${repo.id}&private=false`)).body.count).toBe(1);
    expect((await h.get('/api/v1/distributions?basePath=app')).body.results[0].id).toBe(id);
    expect((await h.delete(`/api/v1/distributions/${id}`)).status).toBe(204);
    expect((await h.delete(`/api/v1/distributions/${id}`)).status).toBe(404);
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
