import { openSecret } from '@cistern/config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiHarness, remoteBody } from './harness.ts';

const h = new ApiHarness();
beforeAll(() => h.start());
afterAll(() => h.stop());

/** Every reply that shows a stored remote: GET it, list remotes, PATCH something else. */
const showings = async (id: string) => [
  await h.get(`/api/v1/remotes/${id}`),
  await h.get('/api/v1/remotes'),
  await h.patch(`/api/v1/remotes/${id}`, { tlsVerify: false }),
];

/** The remote's stored ciphertext in `column` does not show `secret` and opens to it under the API's key. */
async function expectSealed(id: string, column: 'passwordEncrypted' | 'proxyPasswordEncrypted', secret: string) {
  const sealed = (await h.prisma.remote.findUniqueOrThrow({ where: { id } }))[column];
  expect(sealed).not.toContain(secret);
  expect(openSecret(h.resources.secretKey, sealed as string)).toBe(secret);
}

describe('remotes', () => {
  it('creates one with defaults, shows, lists, patches, replaces and deletes it', async () => {
    const created = await h.post('/api/v1/remotes', remoteBody({ name: 'hub-nginx', url: 'https://docker.io', upstreamName: 'nginx' }));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'hub-nginx',
      upstreamName: 'library/nginx',
      policy: 'immediate',
      downloadConcurrency: 10,
      maxRetries: 3,
      syncSignatures: true,
      syncReferrers: true,
      passwordSet: false,
      href: `/api/v1/remotes/${created.body.id}`,
    });
    const id = created.body.id;
    expect((await h.get(`/api/v1/remotes/${id}`)).body.name).toBe('hub-nginx');
    const patched = await h.patch(`/api/v1/remotes/${id}`, { policy: 'on_demand', platforms: ['linux/amd64', 'linux/arm64/v8'] });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ policy: 'on_demand', platforms: ['linux/amd64', 'linux/arm64/v8'], url: 'https://docker.io' });
    const replaced = await h.put(`/api/v1/remotes/${id}`, { name: 'hub-nginx', url: 'https://quay.example.test', upstreamName: 'org/nginx' });
    expect(replaced.body).toMatchObject({ policy: 'immediate', platforms: [], upstreamName: 'org/nginx' });
    expect((await h.delete(`/api/v1/remotes/${id}`)).status).toBe(204);
    expect((await h.get(`/api/v1/remotes/${id}`)).status).toBe(404);
  });

  it('keeps the password write-only: encrypted at rest, never in a response, an error or a log line', async () => {
    const secret = 'pa55-W0RD-that-must-never-leak';
    const created = await h.post('/api/v1/remotes', remoteBody({ username: 'bob', password: secret }));
    expect(created.body.passwordSet).toBe(true);
    const id = created.body.id;
    await expectSealed(id, 'passwordEncrypted', secret);
    const replies = [
      created,
      ...(await showings(id)),
      await h.patch(`/api/v1/remotes/${id}`, { password: secret, username: null }),
      await h.post('/api/v1/remotes', remoteBody({ password: secret, url: `https://u:${secret}@x.test` })),
      await h.post('/api/v1/remotes', { ...remoteBody({ password: secret }), bogus: secret }),
      await h.put(`/api/v1/remotes/${id}`, remoteBody({ username: 'bob', password: secret, downloadConcurrency: 0 })),
      await h.request('POST', '/api/v1/remotes', undefined, { raw: `{"password": "${secret}",` }),
    ];
    for (const reply of replies) expect(reply.text).not.toContain(secret);
    expect(replies.slice(4).map((r) => r.status)).toEqual([400, 400, 400, 400, 400]);
    // PATCH without a password keeps it; null clears it.
    expect((await h.get(`/api/v1/remotes/${id}`)).body.passwordSet).toBe(true);
    expect((await h.patch(`/api/v1/remotes/${id}`, { password: null })).body.passwordSet).toBe(false);
    expect(h.logLines.length).toBeGreaterThan(5);
    expect(h.logLines.join('\n')).not.toContain(secret);
  });

  it('keeps the proxy password write-only: encrypted at rest, never in a response, an error or a log line', async () => {
    const secret = 'Pr0xy-pa55-that-must-never-leak';
    const proxy = { proxyUrl: 'http://proxy.example.test:3128', proxyUsername: 'corp' };
    const created = await h.post('/api/v1/remotes', remoteBody({ ...proxy, proxyPassword: secret }));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ ...proxy, proxyPasswordSet: true, passwordSet: false });
    expect(created.body).not.toHaveProperty('proxyPassword');
    const id = created.body.id;
    await expectSealed(id, 'proxyPasswordEncrypted', secret);
    const replies = [
      created,
      ...(await showings(id)),
      await h.put(`/api/v1/remotes/${id}`, remoteBody({ name: created.body.name, ...proxy })),
      await h.patch(`/api/v1/remotes/${id}`, { proxyPassword: secret, proxyUsername: null }),
      await h.post('/api/v1/remotes', remoteBody({ proxyPassword: secret })),
      await h.post('/api/v1/remotes', remoteBody({ proxyUrl: `http://corp:${secret}@proxy.example.test:3128` })),
      await h.put(`/api/v1/remotes/${id}`, remoteBody({ ...proxy, proxyPassword: secret, downloadConcurrency: 0 })),
    ];
    for (const reply of replies) expect(reply.text).not.toContain(secret);
    expect(replies.slice(5).map((r) => r.status)).toEqual([400, 400, 400, 400]);
    // PATCH and PUT without a proxyPassword keep it; null clears it.
    expect(replies[3]?.body.proxyPasswordSet).toBe(true);
    expect(replies[4]?.body.proxyPasswordSet).toBe(true);
    expect((await h.patch(`/api/v1/remotes/${id}`, { proxyPassword: null })).body.proxyPasswordSet).toBe(false);
    expect((await h.prisma.remote.findUniqueOrThrow({ where: { id } })).proxyPasswordEncrypted).toBeNull();
    expect(h.logLines.join('\n')).not.toContain(secret);
  });

  it('refuses a proxyUrl carrying credentials on create, replace and patch, naming proxyUsername and proxyPassword', async () => {
    const remote = (await h.post('/api/v1/remotes', remoteBody({ proxyUrl: 'http://proxy.example.test:3128' }))).body;
    const withUserinfo = { proxyUrl: 'http://corp:hunter2@proxy.example.test:3128' };
    const replies = [
      await h.post('/api/v1/remotes', remoteBody(withUserinfo)),
      await h.put(`/api/v1/remotes/${remote.id}`, remoteBody({ name: remote.name, ...withUserinfo })),
      await h.patch(`/api/v1/remotes/${remote.id}`, withUserinfo),
      await h.patch(`/api/v1/remotes/${remote.id}`, { proxyUrl: 'http://only-user@proxy.example.test:3128' }),
    ];
    for (const reply of replies) {
      expect(reply.status).toBe(400);
      expect(reply.body.error.details).toEqual([
        { path: 'body.proxyUrl', code: 'custom', message: 'must not carry credentials: use proxyUsername and proxyPassword' },
      ]);
    }
    expect((await h.get(`/api/v1/remotes/${remote.id}`)).body.proxyUrl).toBe('http://proxy.example.test:3128');
    const orphans = [
      await h.post('/api/v1/remotes', remoteBody({ proxyUrl: 'http://proxy.example.test:3128', proxyPassword: 'x' })),
      await h.post('/api/v1/remotes', remoteBody({ proxyUsername: 'corp' })),
      await h.patch(`/api/v1/remotes/${remote.id}`, { proxyPassword: 'x' }),
    ];
    expect(orphans.map((r) => [r.status, r.body.error.details[0].path])).toEqual([
      [400, 'body.proxyUsername'],
      [400, 'body.proxyUrl'],
      [400, 'body.proxyUsername'],
    ]);
  });

  it('shows a proxyUrl stored with credentials before they had fields without them, and seals them at the next PATCH', async () => {
    const secret = 'legacy:pa55/word';
    const remote = (await h.post('/api/v1/remotes', remoteBody())).body;
    await h.prisma.remote.update({ where: { id: remote.id }, data: { proxyUrl: `http://corp%20user:${encodeURIComponent(secret)}@proxy.example.test:3128` } });
    const shown = await h.get(`/api/v1/remotes/${remote.id}`);
    expect(shown.body).toMatchObject({ proxyUrl: 'http://proxy.example.test:3128/', proxyUsername: 'corp user', proxyPasswordSet: true });
    expect(shown.text).not.toContain(encodeURIComponent(secret));
    expect((await h.patch(`/api/v1/remotes/${remote.id}`, { tlsVerify: false })).status).toBe(200);
    expect(await h.prisma.remote.findUniqueOrThrow({ where: { id: remote.id } })).toMatchObject({
      proxyUrl: 'http://proxy.example.test:3128/',
      proxyUsername: 'corp user',
      tlsVerify: false,
    });
    await expectSealed(remote.id, 'proxyPasswordEncrypted', secret);
  });

  it('validates every field and names each bad one', async () => {
    const reply = await h.post('/api/v1/remotes', {
      name: '',
      url: 'ftp://registry.test',
      upstreamName: 'Not/Valid',
      includes: ['bad tag!'],
      platforms: ['linux'],
      policy: 'sometimes',
      downloadConcurrency: 0,
      requestsPerSecond: -1,
      proxyUrl: 'socks://proxy',
      caCert: 'not pem',
      unknownField: 1,
    });
    expect(reply.status).toBe(400);
    expect(reply.body.error.code).toBe('VALIDATION_FAILED');
    const paths = reply.body.error.details.map((d: { path: string }) => d.path);
    for (const field of [
      'name',
      'url',
      'includes.0',
      'platforms.0',
      'policy',
      'downloadConcurrency',
      'requestsPerSecond',
      'proxyUrl',
      'caCert',
      'unknownField',
    ]) {
      expect(paths).toContain(`body.${field}`);
    }
    expect((await h.post('/api/v1/remotes', remoteBody({ url: 'https://user:pw@registry.test' }))).body.error.details[0].path).toBe('body.url');
    expect((await h.post('/api/v1/remotes', remoteBody({ upstreamName: 'UPPER' }))).body.error.details[0].path).toBe('body.upstreamName');
  });

  it('says of a url or proxyUrl the one thing wrong with it: no scheme, another scheme, or credentials', async () => {
    const cases: [Record<string, string>, string, string][] = [
      [
        { url: '127.0.0.1:25900' },
        'body.url',
        'must be an absolute http(s) URL, e.g. https://registry.example.com; it has no scheme: write https://127.0.0.1:25900 (or http://127.0.0.1:25900)',
      ],
      [
        { url: 'localhost:5000' },
        'body.url',
        'must be an absolute http(s) URL, e.g. https://registry.example.com; it has no scheme: write https://localhost:5000 (or http://localhost:5000)',
      ],
      [{ url: 'ftp://registry.test' }, 'body.url', 'must use http or https, not ftp'],
      [{ url: 'https://user:pw@registry.test' }, 'body.url', 'must not carry credentials: use username and password'],
      [
        { proxyUrl: 'proxy.corp:3128' },
        'body.proxyUrl',
        'must be an absolute http(s) URL, e.g. https://registry.example.com; it has no scheme: write https://proxy.corp:3128 (or http://proxy.corp:3128)',
      ],
    ];
    for (const [fields, path, message] of cases) {
      const reply = await h.post('/api/v1/remotes', remoteBody(fields));
      expect([fields, reply.status, reply.body.error.details]).toEqual([fields, 400, [{ path, code: 'custom', message }]]);
    }
  });

  it('answers 404 for unknown and malformed ids, 409 for a taken name', async () => {
    expect((await h.get('/api/v1/remotes/00000000-0000-4000-8000-000000000000')).body.error.code).toBe('NOT_FOUND');
    expect((await h.get('/api/v1/remotes/not-a-uuid')).status).toBe(404);
    expect((await h.patch('/api/v1/remotes/not-a-uuid', {})).status).toBe(404);
    await h.post('/api/v1/remotes', remoteBody({ name: 'taken' }));
    const second = await h.post('/api/v1/remotes', remoteBody({ name: 'taken' }));
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe('ALREADY_EXISTS');
  });

  it('refuses to delete a remote a repository uses', async () => {
    const remote = (await h.post('/api/v1/remotes', remoteBody())).body;
    await h.post('/api/v1/repositories', { name: 'uses-remote', remote: remote.id });
    const reply = await h.delete(`/api/v1/remotes/${remote.id}`);
    expect(reply.status).toBe(409);
    expect(reply.body.error).toMatchObject({ code: 'IN_USE', message: expect.stringContaining('repository "uses-remote"') });
  });

  it('pages and filters', async () => {
    for (let i = 0; i < 5; i++) await h.post('/api/v1/remotes', remoteBody({ name: `paged-${i}`, policy: i % 2 ? 'on_demand' : 'immediate' }));
    const first = await h.get('/api/v1/remotes?name__contains=PAGED&limit=2');
    expect(first.body.count).toBe(5);
    expect(first.body.results.map((r: { name: string }) => r.name)).toEqual(['paged-0', 'paged-1']);
    expect(first.body.previous).toBeNull();
    const second = await h.get(first.body.next);
    expect(second.body.results.map((r: { name: string }) => r.name)).toEqual(['paged-2', 'paged-3']);
    expect(second.body.previous).toContain('offset=0');
    expect((await h.get('/api/v1/remotes?name=paged-3')).body.count).toBe(1);
    expect((await h.get('/api/v1/remotes?name__contains=paged&policy=on_demand')).body.count).toBe(2);
    expect((await h.get('/api/v1/remotes?limit=0')).status).toBe(400);
    expect((await h.get('/api/v1/remotes?colour=red')).body.error.details[0].path).toBe('query.colour');
  });
});
