/* eslint-disable @typescript-eslint/no-explicit-any -- the OpenAPI document is read as plain JSON */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiHarness, remoteBody } from './harness.ts';

const h = new ApiHarness();
let doc: any;
let ids: Record<string, string> = {};
beforeAll(async () => {
  await h.start();
  doc = (await h.get('/openapi.json', null)).body;
  const remote = (await h.post('/api/v1/remotes', remoteBody({ name: 'edges-remote' }))).body;
  const repo = (await h.post('/api/v1/repositories', { name: 'edges-repo', remote: remote.id })).body;
  const dist = (await h.post('/api/v1/distributions', { name: 'edges-dist', basePath: 'edges', repository: repo.id })).body;
  const schedule = (await h.post('/api/v1/schedules', { name: 'edges-schedule', cron: '0 0 1 1 *', repository: repo.id })).body;
  const task = (await h.post(`/api/v1/repositories/${repo.id}/sync`, {})).body.task;
  ids = { remote: remote.id, repo: repo.id, dist: dist.id, schedule: schedule.id, task: task.id };
});
afterAll(() => h.stop());

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/** A path of the document with real ids in its parameters. */
function concrete(path: string): string {
  const owner = (['remotes', 'distributions', 'schedules', 'tasks', 'tokens'] as const).find((group) => path.startsWith(`/api/v1/${group}`));
  const id = { remotes: ids.remote, distributions: ids.dist, schedules: ids.schedule, tasks: ids.task, tokens: ids.task }[owner ?? 'tasks'];
  return path
    .replace('{id}', owner ? String(id) : String(ids.repo))
    .replace('{number}', '0')
    .replace('{digest}', `sha256:${'0'.repeat(64)}`);
}

const operations = () =>
  Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, ops]) =>
    METHODS.filter((m) => ops[m]).map((method) => ({ path, method, op: ops[method] })),
  );

describe('methods', () => {
  it('answers a method a path does not take with 405, Allow and the error shape; OPTIONS with 204 and Allow', async () => {
    let checked = 0;
    const paths = Object.entries(doc.paths as Record<string, Record<string, unknown>>);
    for (const [path] of paths) {
      // Every path the URL matches counts (/repositories/reclaim is also a /repositories/{id}).
      const url = concrete(path);
      const matching = paths.filter(([other]) => new RegExp(`^${other.replace(/\{\w+\}/g, '[^/]+')}$`).test(url));
      const taken = new Set(matching.flatMap(([, others]) => METHODS.filter((m) => others[m])));
      const allow = [...taken].flatMap((m) => (m === 'get' ? ['GET', 'HEAD'] : [m.toUpperCase()]));
      for (const method of METHODS.filter((m) => !taken.has(m))) {
        const reply = await h.request(method.toUpperCase(), url, method === 'get' || method === 'delete' ? undefined : {});
        checked += 1;
        expect([method, path, reply.status]).toEqual([method, path, 405]);
        expect(reply.headers.get('allow')?.split(', ').sort(), `${method} ${path}`).toEqual([...allow].sort());
        expect(reply.body.error).toMatchObject({
          code: 'METHOD_NOT_ALLOWED',
          message: `${method.toUpperCase()} is not allowed here; this path takes ${reply.headers.get('allow')}`,
        });
      }
      const options = await h.request('OPTIONS', url);
      expect([path, options.status, options.headers.get('allow')?.split(', ').sort()]).toEqual([path, 204, [...allow].sort()]);
    }
    expect(checked).toBeGreaterThan(40);
    expect((await h.request('PUT', `/api/v1/tasks/${ids.task}`, {})).status).toBe(405);
    expect((await h.get('/api/v1/nothing-here')).body.error.code).toBe('NOT_FOUND');
  });
});

describe('request bodies', () => {
  it('takes a request with no body as {} where every field is optional, and says which fields are missing elsewhere', async () => {
    const ops = operations().filter(({ op }) => op.requestBody);
    expect(ops.filter(({ op }) => !op.requestBody.required).length).toBeGreaterThanOrEqual(6);
    for (const { path, method, op } of ops) {
      const reply = await h.request(method.toUpperCase(), concrete(path));
      if (op.requestBody.required) {
        expect([method, path, reply.status, reply.body.error.code]).toEqual([method, path, 400, 'VALIDATION_FAILED']);
        expect(reply.body.error.details.length).toBeGreaterThan(0);
      } else {
        expect([method, path, reply.status]).toEqual([method, path, Number(Object.keys(op.responses)[0])]);
      }
    }
  });

  it('still answers 415 to a body of another type, and to a declared type that is not JSON', async () => {
    const sync = `/api/v1/repositories/${ids.repo}/sync`;
    expect((await h.request('POST', sync, undefined, { raw: 'mirror=true', headers: { 'content-type': 'text/plain' } })).status).toBe(415);
    expect((await h.request('POST', sync, undefined, { raw: '', headers: { 'content-type': 'text/plain' } })).status).toBe(415);
    expect((await h.request('POST', sync, undefined, { raw: '{}', headers: { 'content-type': 'application/json' } })).status).toBe(202);
  });

  it('takes no bytes declared as JSON as {} (curl -H "Content-Type: application/json" -X POST sends none)', async () => {
    const sync = `/api/v1/repositories/${ids.repo}/sync`;
    expect((await h.request('POST', sync, undefined, { raw: '', headers: { 'content-type': 'application/json; charset=utf-8' } })).status).toBe(202);
  });
});

describe('list filters', () => {
  /** Filters whose values are free text (an exact or partial match): an unknown value matches nothing. */
  const FREE_TEXT = new Set(['name', 'name__contains', 'url', 'basePath']);

  it('refuses a value no filter can hold with 400 naming it; a free-text filter matches nothing', async () => {
    let refused = 0;
    for (const { path, method, op } of operations()) {
      if (method !== 'get') continue;
      for (const param of (op.parameters ?? []).filter((p: any) => p.in === 'query' && !['limit', 'offset'].includes(p.name))) {
        const reply = await h.get(`${concrete(path)}?${param.name}=bogus`);
        if (FREE_TEXT.has(param.name)) {
          expect([path, param.name, reply.status, reply.body.count]).toEqual([path, param.name, 200, 0]);
        } else {
          refused += 1;
          expect([path, param.name, reply.status, reply.body.error?.details?.[0]?.path]).toEqual([path, param.name, 400, `query.${param.name}`]);
        }
      }
    }
    expect(refused).toBeGreaterThan(15);
    for (const query of ['kind=sync', `resource=repository:${ids.repo}`, 'resource=storage', 'state=waiting']) {
      expect((await h.get(`/api/v1/tasks?${query}`)).status, query).toBe(200);
    }
    expect((await h.get('/api/v1/tasks?kind=sync')).body.count).toBeGreaterThan(0);
    expect((await h.get('/api/v1/tasks?kind=copy')).body.count).toBe(0);
    expect((await h.get('/api/v1/content/manifests?classification=helm&mediaType=application/vnd.oci.image.manifest.v1%2Bjson')).status).toBe(200);
  });

  it('refuses NUL in every string query and path parameter with a 4xx, never a 5xx (PostgreSQL text cannot hold it)', async () => {
    const sent: string[] = [];
    const answered: string[] = [];
    const check = async (url: string) => {
      const reply = await h.get(url);
      sent.push(url);
      if (reply.status < 400 || reply.status >= 500) answered.push(`${reply.status} ${url}`);
    };
    for (const { path, method, op } of operations()) {
      if (method !== 'get') continue;
      const params: any[] = op.parameters ?? [];
      for (const param of params.filter((p) => p.in === 'query' && p.schema?.type === 'string')) {
        // Bare, after a plausible prefix and inside one: a pattern anchored at one end must not let it through.
        for (const value of ['%00', 'tag:%00', 'manifest:%00x', 'blob:a%00b', `sha256:${'0'.repeat(63)}%00`]) {
          await check(`${concrete(path)}?${param.name}=${value}`);
        }
      }
      for (const param of params.filter((p) => p.in === 'path')) {
        await check(concrete(path.replace(`{${param.name}}`, 'a%00b')));
      }
    }
    expect(answered).toEqual([]);
    expect(sent.length).toBeGreaterThan(100);
  });

  it('refuses NUL in the free strings of a remote body (its URLs, its upstream name) with 400 naming the field', async () => {
    for (const [field, value] of [
      ['url', 'http://x.test/a\u0000'],
      ['upstreamName', 'a\u0000b'],
      ['proxyUrl', 'http://proxy.test/\u0000'],
    ] as const) {
      const reply = await h.post('/api/v1/remotes', remoteBody({ name: `nul-${field}`, [field]: value }));
      expect([field, reply.status, reply.body.error?.details?.[0]?.path]).toEqual([field, 400, `body.${field}`]);
    }
  });
});
