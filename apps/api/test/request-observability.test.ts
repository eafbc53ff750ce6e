import { request as httpRequest } from 'node:http';
/* eslint-disable @typescript-eslint/no-explicit-any -- log lines and the OpenAPI document are read as plain JSON */
import { randomBytes, randomUUID } from 'node:crypto';
import { scrapeMetrics } from '@cistern/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiHarness } from './harness.ts';

const h = new ApiHarness();
let templates: { method: string; template: string }[] = [];
beforeAll(async () => {
  await h.start();
  const doc = (await h.get('/openapi.json', null)).body;
  templates = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
    ['get', 'post', 'put', 'patch', 'delete'].filter((m) => ops[m]).map((method) => ({ method, template: path.slice('/api/v1'.length) })),
  );
});
afterAll(() => h.stop());

const metrics = () => scrapeMetrics(`${h.api.url}/metrics`);
const requestLines = () => h.logLines.map((line) => JSON.parse(line)).filter((line) => line.msg === 'request');
/** The request lines written after the first `from`, once there are `count` of them (a line is written when the response has ended). */
async function linesAfter(from: number, count: number): Promise<any[]> {
  await expect.poll(() => requestLines().length - from).toBe(count);
  return requestLines().slice(from);
}

describe('API request log and metrics', () => {
  it('labels each request with its route template, whoever asks and however it ends', async () => {
    const before = requestLines().length;
    for (const [i, { method, template }] of templates.entries()) {
      const url = `/api/v1${template
        .replace('{id}', randomUUID())
        .replace('{number}', '1')
        .replace('{digest}', `sha256:${'0'.repeat(64)}`)}`;
      const reply = await h.request(method.toUpperCase(), url, method === 'get' || method === 'delete' ? undefined : {});
      const line = (await linesAfter(before, i + 1))[i];
      expect([method, template, line.route, line.method, line.status]).toEqual([method, template, template, method.toUpperCase(), reply.status]);
    }
    // Refused before any route runs (no token) and answered 405: still the route's template.
    const unauthorized = await h.get('/api/v1/remotes', null);
    const refused = await h.request('PUT', '/api/v1/remotes');
    expect([unauthorized.status, refused.status]).toEqual([401, 405]);
    const [a, b] = (await linesAfter(before, templates.length + 2)).slice(-2);
    expect([a.route, a.status, b.route, b.status]).toEqual(['/remotes', 401, '/remotes', 405]);
  });

  it('writes one line per request with only app, method, route, status, ms and bytes; bytes are the body sent', async () => {
    const before = requestLines().length;
    const list = await h.get('/api/v1/remotes?limit=5');
    const head = await h.request('HEAD', '/api/v1/remotes');
    const [get, headLine] = await linesAfter(before, 2);
    const base = ['level', 'time', 'pid', 'hostname', 'msg'];
    expect(Object.keys(get).filter((k) => !base.includes(k))).toEqual(['app', 'method', 'route', 'status', 'ms', 'bytes']);
    expect(get).toMatchObject({ level: 30, app: 'api', method: 'GET', route: '/remotes', status: 200, bytes: Buffer.byteLength(list.text) });
    expect(typeof get.ms).toBe('number');
    expect([head.status, headLine.bytes]).toEqual([200, 0]);
  });

  it('keeps probes and scrapes out of the info lines and the counters', async () => {
    const total = async () => (await metrics()).value('cistern_api_requests_total');
    const counted = await total();
    const before = h.logLines.length;
    for (const path of ['/healthz', '/readyz', '/metrics']) expect((await fetch(`${h.api.url}${path}`)).status).toBe(200);
    await expect.poll(() => h.logLines.length - before).toBeGreaterThanOrEqual(3);
    const lines = h.logLines.slice(before).map((line) => JSON.parse(line));
    expect(lines.filter((l) => l.msg === 'request').map((l) => [l.level, l.route])).toEqual([
      [20, '/healthz'],
      [20, '/readyz'],
      [20, '/metrics'],
    ]);
    // The scrape before and the one now are the only /metrics requests; neither counts.
    expect(await total()).toBe(counted);
  });

  it('keeps the route label bounded and the query out of the log whatever paths clients send', async () => {
    const other = async () => (await metrics()).value('cistern_api_requests_total', { route: 'other' });
    const counted = await other();
    const before = requestLines().length;
    const secret = `secret-${randomBytes(8).toString('hex')}`;
    for (let i = 0; i < 200; i++) {
      const segments = Array.from({ length: 1 + (i % 4) }, () => `zzpath${randomBytes(4).toString('hex')}`).join('/');
      const path = i % 2 === 0 ? `/api/v1/${segments}` : `/${segments}`;
      const reply = await h.request(['GET', 'POST', 'DELETE'][i % 3] as string, `${path}?token=${secret}&account=${secret}`);
      expect(reply.status).toBe(404);
    }
    await linesAfter(before, 200);
    expect(await other()).toBe(counted + 200);
    const scrape = await metrics();
    const allowed = new Set([...templates.map((t) => t.template), 'other']);
    const routes = new Set(scrape.series('cistern_api_requests_total').map((s) => s.labels.route));
    expect([...routes].filter((route) => !allowed.has(route as string))).toEqual([]);
    expect(new Set(scrape.series('cistern_api_request_duration_seconds_count').map((s) => s.labels.route)).size).toBeLessThanOrEqual(allowed.size);
    expect(h.logLines.filter((line) => line.includes(secret) || line.includes('zzpath'))).toEqual([]);
  });

  it('files every method Cistern never answers under one method label, before or after authentication', async () => {
    // Node's parser accepts some 34 methods; each must not become series of its own for every route.
    const odd = ['PROPFIND', 'MKCOL', 'LOCK', 'UNLOCK', 'SEARCH', 'PURGE', 'REPORT', 'MKACTIVITY', 'CHECKOUT', 'MERGE', 'NOTIFY', 'SUBSCRIBE', 'LINK', 'QUERY'];
    const before = (await metrics()).value('cistern_api_requests_total', { method: 'other' });
    for (const method of odd) {
      const reply = await new Promise<number>((resolve, reject) => {
        const req = httpRequest(`${h.api.url}/api/v1/remotes`, { method }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
      expect(reply, method).toBeLessThan(500);
    }
    const scrape = await metrics();
    expect(scrape.value('cistern_api_requests_total', { method: 'other' })).toBe(before + odd.length);
    const methods = new Set(scrape.series('cistern_api_requests_total').map((s) => s.labels.method));
    expect([...methods].filter((m) => !['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'other'].includes(m as string))).toEqual([]);
  });
});
