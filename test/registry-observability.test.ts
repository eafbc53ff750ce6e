/* eslint-disable @typescript-eslint/no-explicit-any -- API replies and log lines are read as plain JSON */
import { randomBytes } from 'node:crypto';
import {
  createTestDatabase,
  createTestRedisPrefix,
  makeTempDir,
  pushImage,
  removeDir,
  lintMetrics,
  scrapeMetrics,
  freePort,
  startDistribution,
  startFaultProxy,
  TEST_REDIS_URL,
  type Distribution,
  type FaultProxy,
  type MetricsScrape,
  type PushedManifest,
  type TestDatabase,
} from '@cistern/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAllInOne, startProcess, waitForReady, type Started } from './processes.ts';

const ADMIN = 'observability-admin-token-0123456789abcdef';
const redis = createTestRedisPrefix();
let upstream: Distribution;
let proxy: FaultProxy;
let db: TestDatabase;
let dataDir: string;
let cistern: Started;
/** The environment of the all-in-one process, for starting another process beside it. */
let env: Record<string, string>;
let api: string;
let registry: string;
const images: Record<'kept' | 'lazy', PushedManifest> = {} as never;

async function call(method: string, path: string, body?: unknown): Promise<Record<string, any>> {
  const res = await fetch(`${api}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const reply = (await res.json()) as Record<string, any>;
  if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(reply)}`);
  return reply;
}

/** Remote (with `policy`; through the proxy unless `upstream` says where) → repository → sync to completion → distribution at `name`. */
async function mirror(name: string, policy: string, upstream: Record<string, string> = { url: proxy.url }): Promise<void> {
  const remote = await call('POST', '/remotes', { name, upstreamName: `lib/${name}`, policy, ...upstream });
  const repository = await call('POST', '/repositories', { name, remote: remote.id });
  let task = (await call('POST', `/repositories/${repository.id}/sync`, {})).task;
  while (!['completed', 'failed', 'canceled'].includes(task.state)) {
    await new Promise((r) => setTimeout(r, 100));
    task = await call('GET', `/tasks/${task.id}`);
  }
  expect([name, task.state]).toEqual([name, 'completed']);
  await call('POST', '/distributions', { name, basePath: name, repository: repository.id });
}

beforeAll(async () => {
  upstream = await startDistribution();
  proxy = await startFaultProxy(upstream.url);
  // The kept layer is large enough that a client leaving after its first bytes leaves the response unfinished.
  images.kept = await pushImage(upstream, 'lib/kept', 'v1', { layers: [randomBytes(24 * 1024 * 1024)] });
  images.lazy = await pushImage(upstream, 'lib/lazy', 'v1', { layers: [randomBytes(1024 * 1024)] });
  db = await createTestDatabase();
  dataDir = await makeTempDir('cistern-observability');
  env = { DATA_DIR: dataDir, DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: redis.prefix, CISTERN_ADMIN_TOKEN: ADMIN, LOG_LEVEL: 'info' };
  ({ cistern, api, registry } = await startAllInOne(env));
  await mirror('kept', 'immediate');
  await mirror('lazy', 'on_demand');
}, 60_000);

afterAll(async () => {
  cistern?.child.kill('SIGTERM');
  await cistern?.exited;
  await proxy?.stop();
  await upstream?.stop();
  await redis.cleanup();
  await db?.drop();
  await removeDir(dataDir);
});

/** The registry's request lines in the process's output so far. */
const registryLines = () =>
  cistern
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, any>)
    .filter((line) => line.app === 'registry' && line.msg === 'request');

/** Counter and histogram-count deltas between two scrapes of the series with `labels`. */
const delta = (name: string, labels: Record<string, string>, before: MetricsScrape, after: MetricsScrape) =>
  after.value(name, labels) - before.value(name, labels);

/** The size its manifest gives the image's blob `index` (0: the config, then the layers). */
function sizeOf(image: PushedManifest, index: number): number {
  const manifest = JSON.parse(image.bytes.toString()) as { config: { size: number }; layers: { size: number }[] };
  return [manifest.config, ...manifest.layers].map((d) => d.size)[index] as number;
}

async function body(url: string): Promise<Buffer> {
  const response = await fetch(url);
  expect([url, response.status]).toEqual([url, 200]);
  return Buffer.from(await response.arrayBuffer());
}

describe('registry request metrics, on-demand metrics and request log', () => {
  it('counts each pull by route, its bytes sent, one fetch for concurrent first pulls and a hit for the next', async () => {
    const before = await scrapeMetrics(`${registry}/metrics`);
    const linesBefore = registryLines().length;
    const [config, layer] = images.kept.blobs as [string, string];
    const lazyLayer = images.lazy.blobs[1] as string;
    expect((await fetch(`${registry}/v2/`)).status).toBe(401);
    const manifest = await body(`${registry}/v2/kept/manifests/v1`);
    expect((await fetch(`${registry}/v2/kept/manifests/v1`, { method: 'HEAD' })).status).toBe(200);
    await body(`${registry}/v2/kept/tags/list`);
    const kept = [await body(`${registry}/v2/kept/blobs/${config}`), await body(`${registry}/v2/kept/blobs/${layer}`)];
    expect((await fetch(`${registry}/v2/nothing-here`)).status).toBe(404);
    // Four clients at once on a blob not yet stored, while the upstream stalls: one fetch, three waits.
    proxy.reset();
    proxy.inject({ kind: 'blob', fault: { type: 'stall', ms: 1000 } });
    const lazy = await Promise.all(Array.from({ length: 4 }, () => body(`${registry}/v2/lazy/blobs/${lazyLayer}`)));
    lazy.push(await body(`${registry}/v2/lazy/blobs/${lazyLayer}`));
    expect(proxy.count('GET', 'blob')).toBe(1);

    await expect.poll(() => registryLines().length - linesBefore).toBe(12);
    // The download settles just after its bytes are in storage, which is what let the waiters go.
    const fetches = async () => (await scrapeMetrics(`${registry}/metrics`)).value('cistern_registry_on_demand_fetches_total');
    await expect.poll(fetches).toBe(before.value('cistern_registry_on_demand_fetches_total') + 1);
    // A hit is counted beside the pull it served, not before the pull's response.
    const hits = async () => (await scrapeMetrics(`${registry}/metrics`)).value('cistern_registry_on_demand_hits_total');
    await expect.poll(hits).toBe(before.value('cistern_registry_on_demand_hits_total') + 1);
    const after = await scrapeMetrics(`${registry}/metrics`);
    // The whole exposition of the process (npm start: API, worker and registry in one) as Prometheus itself reads it, and
    // Cistern's own names lint clean (prom-client's Node defaults keep their standard names, three gauges ending in _total).
    const problems = await lintMetrics(await (await fetch(`${registry}/metrics`)).text());
    expect(problems.filter((problem) => !problem.startsWith('nodejs_'))).toEqual([]);
    const requests = (route: string, method: string, status_class: string) =>
      delta('cistern_registry_requests_total', { route, method, status_class }, before, after);
    expect({
      base: requests('base', 'GET', '4xx'),
      manifests: requests('manifests', 'GET', '2xx'),
      manifestHeads: requests('manifests', 'HEAD', '2xx'),
      tags: requests('tags', 'GET', '2xx'),
      blobs: requests('blobs', 'GET', '2xx'),
      other: requests('other', 'GET', '4xx'),
      all: delta('cistern_registry_requests_total', {}, before, after),
      timed: delta('cistern_registry_request_duration_seconds_count', {}, before, after),
    }).toEqual({ base: 1, manifests: 1, manifestHeads: 1, tags: 1, blobs: 7, other: 1, all: 12, timed: 12 });
    const blobBytes = [...kept, ...lazy].reduce((sum, b) => sum + b.length, 0);
    expect(blobBytes).toBe(sizeOf(images.kept, 0) + sizeOf(images.kept, 1) + 5 * sizeOf(images.lazy, 1));
    expect(delta('cistern_registry_sent_bytes_total', { route: 'blobs' }, before, after)).toBe(blobBytes);
    expect(delta('cistern_registry_sent_bytes_total', { route: 'manifests' }, before, after)).toBe(manifest.length);
    expect({
      fetched: delta('cistern_registry_on_demand_fetches_total', { outcome: 'completed' }, before, after),
      failed: delta('cistern_registry_on_demand_fetches_total', { outcome: 'failed' }, before, after),
      coalesced: delta('cistern_registry_on_demand_coalesced_total', {}, before, after),
      hits: delta('cistern_registry_on_demand_hits_total', {}, before, after),
    }).toEqual({ fetched: 1, failed: 0, coalesced: 3, hits: 1 });
    // Probes and scrapes (the readiness polls, these two scrapes) are neither counted nor logged at info.
    expect(registryLines().filter((line) => ['/healthz', '/readyz', '/metrics'].includes(line.route))).toEqual([]);
    expect(after.value('cistern_registry_requests_total')).toBe(registryLines().length);
  });

  it('logs a token request with Basic credentials and a query as one line without either', async () => {
    const basic = Buffer.from(`ci-user:${ADMIN}`).toString('base64');
    const from = registryLines().length;
    const response = await fetch(`${registry}/token?service=cistern&scope=repository:lazy:pull&account=ci-user`, {
      headers: { authorization: `Basic ${basic}` },
    });
    expect(response.status).toBe(200);
    await expect.poll(() => registryLines().length - from).toBe(1);
    const [line] = registryLines().slice(from);
    const base = ['level', 'time', 'pid', 'hostname', 'name', 'msg'];
    expect(Object.keys(line ?? {}).filter((k) => !base.includes(k))).toEqual(['app', 'method', 'route', 'status', 'ms', 'bytes']);
    expect(line).toMatchObject({ level: 30, app: 'registry', method: 'GET', route: 'token', status: 200, bytes: (await response.arrayBuffer()).byteLength });
    const output = cistern.output();
    for (const secret of [ADMIN, basic, 'authorization', 'scope=', 'account=', 'ci-user']) expect([secret, output.includes(secret)]).toEqual([secret, false]);
  });

  it('logs a client that leaves mid-blob as aborted, with the bytes it was sent', async () => {
    const before = await scrapeMetrics(`${registry}/metrics`);
    const from = registryLines().length;
    const abort = new AbortController();
    const response = await fetch(`${registry}/v2/kept/blobs/${images.kept.blobs[1]}`, { signal: abort.signal });
    await response.body?.getReader().read();
    abort.abort();
    await expect.poll(() => registryLines().length - from).toBe(1);
    const [line] = registryLines().slice(from);
    expect(line).toMatchObject({ route: 'blobs', status: 200, aborted: true });
    expect(line?.bytes).toBeLessThan(sizeOf(images.kept, 1));
    const after = await scrapeMetrics(`${registry}/metrics`);
    expect(delta('cistern_registry_sent_bytes_total', { route: 'blobs' }, before, after)).toBe(line?.bytes);
  });
});

describe('the upstream requests of on-demand fetches (a registry process at LOG_LEVEL=debug)', () => {
  it('logs each one as a registry line, without query string or credentials', async () => {
    const secured = await startDistribution({ auth: 'token', password: 'upstream-pw-4711' });
    const port = String(await freePort());
    const debug = startProcess('apps/registry/src/main.ts', { ...env, REGISTRY_PORT: port, LOG_LEVEL: 'debug' });
    try {
      const image = await pushImage(secured, 'lib/secured', 'v1', { layers: [randomBytes(64 * 1024)] });
      await mirror('secured', 'on_demand', { url: secured.url, username: secured.username, password: secured.password });
      await waitForReady(`http://127.0.0.1:${port}/readyz`, { of: debug });
      const tokensBefore = secured.tokenServer?.requests.length ?? 0;
      const layer = await body(`http://127.0.0.1:${port}/v2/secured/blobs/${image.blobs[1]}`);
      expect(layer.length).toBe(sizeOf(image, 1));

      const lines = debug
        .output()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, any>)
        .filter((line) => line.msg === 'upstream request');
      // The token realm's answers (their URLs carry scope and service) and the blob's: the fetch's own requests.
      const tokens = (secured.tokenServer?.requests.length ?? 0) - tokensBefore;
      expect(tokens).toBeGreaterThan(0);
      expect(lines.filter((line) => line.requestKind === 'token').length).toBe(tokens);
      expect(lines.some((line) => line.requestKind === 'blob' && line.method === 'GET' && line.status === 200)).toBe(true);
      for (const line of lines) {
        expect(line).toMatchObject({ level: 20, app: 'registry', remote: 'secured', url: expect.any(String), ms: expect.any(Number) });
        expect(JSON.stringify(line)).not.toMatch(/\?|authorization|bearer|basic |upstream-pw-4711|scope=|service=/i);
      }
    } finally {
      debug.child.kill('SIGTERM');
      await debug.exited;
      await secured.stop();
    }
  });
});
