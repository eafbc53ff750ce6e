import { randomBytes } from 'node:crypto';
import {
  json,
  OCI_CONFIG,
  OCI_MANIFEST,
  pushImage,
  scrapeMetrics,
  startDistribution,
  startFaultProxy,
  startSyntheticUpstream,
  type Distribution,
  type FaultProxy,
  type MetricsScrape,
  type PathKind,
  type SyntheticUpstream,
} from '@cistern/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSyncFixture, type SeparateCistern, type SyncFixture } from './processes.ts';

// A real worker process syncs from real upstreams; its /metrics and its log
// lines are checked against what the upstreams themselves saw.

const FINAL = ['completed', 'failed', 'canceled'];
/** The metrics' request kinds for the fault proxy's path kinds (a ping of /v2/ is `other`). */
const METRIC_KIND: Record<PathKind, string> = {
  ping: 'other',
  manifest: 'manifest',
  blob: 'blob',
  upload: 'other',
  tags: 'tags',
  referrers: 'referrers',
  token: 'token',
  other: 'other',
};
const statusClass = (status: number) => (status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : 'error');

interface LogLine {
  msg: string;
  level: number;
  [field: string]: unknown;
}

/** The JSON lines a process wrote. */
const logLines = (output: string): LogLine[] =>
  output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);

/** Creates a remote (named `remote.name`) and a repository of the same name through the API; returns the repository's id. */
async function mirrorOf(cistern: SeparateCistern, remote: { name: string; [field: string]: unknown }): Promise<string> {
  const made = await cistern.call('POST', '/remotes', remote);
  expect(made.status, JSON.stringify(made.body)).toBe(201);
  const repo = await cistern.call('POST', '/repositories', { name: remote.name, remote: made.body.id });
  expect(repo.status).toBe(201);
  return String(repo.body.id);
}

/** Runs one sync of the repository through the API to its end; returns the task's id. */
async function syncToEnd(cistern: SeparateCistern, repositoryId: string, dryRun = false): Promise<string> {
  const started = await cistern.call('POST', `/repositories/${repositoryId}/sync`, { mirror: true, dryRun });
  const task = await cistern.waitTask((started.body.task as { id: string }).id, (t) => FINAL.includes(t.state), 30_000);
  expect(task.state, JSON.stringify(task.error)).toBe('completed');
  return task.id;
}

/** `after - before` of one metric's matching series. */
const grew = (before: MetricsScrape, after: MetricsScrape, name: string, labels: Record<string, string>) =>
  after.value(name, labels) - before.value(name, labels);

describe('worker metrics and logs after a real sync through a counting proxy (LOG_LEVEL=debug)', () => {
  let fixture: SyncFixture;
  let distribution: Distribution;
  let proxy: FaultProxy;

  beforeAll(async () => {
    [fixture, distribution] = await Promise.all([startSyncFixture({ LOG_LEVEL: 'debug' }), startDistribution({ auth: 'token' })]);
    proxy = await startFaultProxy(distribution.url);
  });
  afterAll(async () => {
    await proxy?.stop();
    await distribution?.stop();
    await fixture?.stop();
  });

  it('starts the task counter at 0 for every kind and final state, on the worker and on the API (which cancels waiting tasks)', async () => {
    // A series that first appears at 1 has no increase(): the first failed sync after a start would not fire CisternSyncsFailing.
    const kinds = ['sync', 'sync-dry-run', 'tag', 'untag', 'remove', 'copy', 'orphan-cleanup', 'orphan-cleanup-dry-run', 'reclaim-space'];
    const expected = kinds.flatMap((kind) => FINAL.map((state) => `${kind} ${state} 0`)).sort();
    for (const port of [fixture.cistern.env.WORKER_PORT, fixture.cistern.env.API_PORT]) {
      const fresh = await scrapeMetrics(`http://127.0.0.1:${port}/metrics`);
      const series = fresh.series('cistern_tasks_total').map((s) => `${s.labels.kind} ${s.labels.state} ${s.value}`);
      expect([port, series.sort()]).toEqual([port, expected]);
    }
  });

  it('counts every request the upstream saw, the task, and the blobs and bytes downloaded; logs each request without secrets', async () => {
    const { cistern } = fixture;
    const image = await pushImage(distribution, 'team/app', '1.0', { layers: [randomBytes(3000), randomBytes(5000)] });
    const manifest = JSON.parse(image.bytes.toString()) as { config: { size: number }; layers: { size: number }[] };
    const blobBytes = manifest.config.size + manifest.layers.reduce((sum, layer) => sum + layer.size, 0);
    // One blob GET answers 503 once: the client retries it.
    proxy.inject({ method: 'GET', kind: 'blob', fault: { type: 'status', status: 503 }, times: 1 });
    const remote = { name: 'local-dist', url: proxy.url, upstreamName: 'team/app', username: 'tester', password: 'secret-pw' };
    const labels = { remote: remote.name };

    const repositoryId = await mirrorOf(cistern, remote);
    const before = await scrapeMetrics(`${cistern.workerUrl}/metrics`);
    // A dry-run first: it GETs the manifest but downloads no blob.
    const dryRunId = await syncToEnd(cistern, repositoryId, true);
    const planned = await scrapeMetrics(`${cistern.workerUrl}/metrics`);
    expect(grew(before, planned, 'cistern_sync_manifests_total', { ...labels, outcome: 'fetched' })).toBe(1);
    expect(grew(before, planned, 'cistern_sync_blobs_total', labels)).toBe(0);
    expect(grew(before, planned, 'cistern_sync_downloaded_bytes_total', labels)).toBe(0);

    const syncId = await syncToEnd(cistern, repositoryId);
    const after = await scrapeMetrics(`${cistern.workerUrl}/metrics`);

    // Requests: exactly what the proxy and the token realm saw, by kind and status class.
    const tokens = distribution.tokenServer?.requests.length ?? 0;
    expect(tokens).toBeGreaterThan(0);
    const expected = new Map<string, number>([[`token 2xx`, tokens]]);
    for (const event of proxy.events) {
      const key = `${METRIC_KIND[event.kind]} ${statusClass(event.status)}`;
      expected.set(key, (expected.get(key) ?? 0) + 1);
    }
    const counted = new Map<string, number>();
    for (const s of after.series('cistern_upstream_requests_total').filter((x) => x.labels.remote === remote.name)) {
      const grown = s.value - before.value('cistern_upstream_requests_total', s.labels);
      if (grown > 0) counted.set(`${s.labels.kind} ${s.labels.status_class}`, grown);
    }
    expect(Object.fromEntries(counted)).toEqual(Object.fromEntries(expected));
    expect(counted.get('blob 5xx')).toBe(1);
    expect(grew(before, after, 'cistern_upstream_retries_total', { ...labels, kind: 'blob' })).toBe(1);

    // The tasks: the dry-run and the real sync completed, each timed, the dry-run under a kind of its own.
    for (const [kind, plannedCount] of [
      ['sync-dry-run', 1],
      ['sync', 0],
    ] as const) {
      expect([kind, grew(before, planned, 'cistern_tasks_total', { kind, state: 'completed' })]).toEqual([kind, plannedCount]);
      expect([kind, grew(before, after, 'cistern_tasks_total', { kind, state: 'completed' })]).toEqual([kind, 1]);
      expect([kind, grew(before, after, 'cistern_task_duration_seconds_count', { kind, state: 'completed' })]).toEqual([kind, 1]);
    }

    // Blobs and bytes: what the real sync downloaded (config and two layers), as the proxy served them.
    const blobsServed = proxy.events.filter((e) => e.method === 'GET' && e.kind === 'blob' && e.status === 200).length;
    expect(blobsServed).toBe(3);
    expect(grew(planned, after, 'cistern_sync_blobs_total', { ...labels, outcome: 'fetched' })).toBe(blobsServed);
    expect(grew(before, after, 'cistern_sync_downloaded_bytes_total', labels)).toBe(blobBytes);
    const manifestsServed = proxy.events.filter((e) => e.method === 'GET' && e.kind === 'manifest' && e.status === 200).length;
    expect(grew(before, after, 'cistern_sync_manifests_total', { ...labels, outcome: 'fetched' })).toBe(manifestsServed);

    // One debug line per request, with no query string, header or credential in it.
    const lines = logLines(cistern.worker.output());
    const requestLines = lines.filter((line) => line.msg === 'upstream request' && line.remote === remote.name);
    expect(requestLines.length).toBe(proxy.events.length + tokens);
    expect(requestLines.filter((line) => line.requestKind === 'token').length).toBe(tokens);
    for (const line of requestLines) {
      expect(line).toMatchObject({ method: expect.any(String), url: expect.any(String), ms: expect.any(Number) });
      const text = JSON.stringify(line);
      expect(text).not.toMatch(/\?|authorization|bearer|basic |secret-pw|scope=/i);
    }
    expect(requestLines.some((line) => line.requestKind === 'blob' && line.status === 200 && line.bytes === manifest.layers[1]?.size)).toBe(true);

    // One line per state change, with the task's id, kind, repository and state; no error logged.
    for (const id of [dryRunId, syncId]) {
      const states = lines.filter((line) => line.taskId === id && typeof line.state === 'string');
      expect(states.map((line) => line.state)).toEqual(['running', 'completed']);
      for (const line of states) expect(line).toMatchObject({ kind: 'sync', repositoryId, level: 30 });
    }
    expect(lines.filter((line) => line.level >= 50)).toEqual([]);
  });
});

describe('200 tags, blobs redirected to a CDN, Docker Hub rate-limit headers (LOG_LEVEL=info)', () => {
  let fixture: SyncFixture;
  let upstream: SyntheticUpstream;
  let cdn: SyntheticUpstream;

  beforeAll(async () => {
    cdn = await startSyntheticUpstream();
    [fixture, upstream] = await Promise.all([startSyncFixture({ LOG_LEVEL: 'info' }), startSyntheticUpstream({ redirectBlobsTo: cdn.url })]);
  });
  afterAll(async () => {
    await fixture?.stop();
    await upstream?.stop();
    await cdn?.stop();
  });

  /** `count` tags, each its own small image whose blobs the upstream redirects to the CDN. */
  const addImages = (repository: string, count: number): string[] => {
    const tags = Array.from({ length: count }, (_, i) => `build-${i}`);
    for (const tag of tags) {
      const config = json({ architecture: 'amd64', os: 'linux', repository, tag });
      const layer = randomBytes(256);
      cdn.addBlob(repository, config);
      cdn.addBlob(repository, layer);
      const configDigest = upstream.addBlob(repository, config);
      const layerDigest = upstream.addBlob(repository, layer);
      const bytes = json({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: OCI_CONFIG, digest: configDigest, size: config.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.length }],
      });
      upstream.addManifest(repository, bytes, OCI_MANIFEST, [tag]);
    }
    return tags;
  };

  it('keeps the series of every cistern_ metric independent of the tag count, and the rate-limit gauges at the last values seen', async () => {
    const { cistern } = fixture;
    upstream.headers['ratelimit-limit'] = '100;w=21600';
    upstream.headers['ratelimit-remaining'] = '76;w=21600';
    addImages('team/one', 1);
    const tags = addImages('team/many', 200);

    await syncToEnd(cistern, await mirrorOf(cistern, { name: 'one', url: upstream.url, upstreamName: 'team/one' }));
    const seen = upstream.requests.length + cdn.requests.length;
    const before = await scrapeMetrics(`${cistern.workerUrl}/metrics`);
    const many = await mirrorOf(cistern, { name: 'many', url: upstream.url, upstreamName: 'team/many' });
    const manyId = await syncToEnd(cistern, many);
    const after = await scrapeMetrics(`${cistern.workerUrl}/metrics`);

    // Every request counted once, each redirect hop on its own: 400 blob GETs are 400 307s and 400 CDN answers.
    expect(after.value('cistern_upstream_requests_total', { remote: 'many' })).toBe(upstream.requests.length + cdn.requests.length - seen);
    expect(after.value('cistern_upstream_requests_total', { remote: 'many', kind: 'blob', status_class: '3xx' })).toBe(400);
    expect(after.value('cistern_sync_blobs_total', { remote: 'many', outcome: 'fetched' })).toBe(400);

    // The same series for 200 tags as for one, and no tag or digest in any label.
    expect(after.names()).toEqual(expect.arrayContaining(['cistern_upstream_requests_total', 'cistern_sync_blobs_total', 'cistern_tasks_total']));
    // Series names as exposed: a histogram's _bucket, _sum and _count each.
    const names = [...new Set(after.samples.map((s) => s.name))].filter((name) => name.startsWith('cistern_'));
    const withoutRemote = (labels: Record<string, string>) => JSON.stringify({ ...labels, remote: undefined });
    const tagSet = new Set(tags);
    for (const name of names) {
      const series = after.series(name);
      const of = (remote: string) =>
        series
          .filter((s) => s.labels.remote === remote)
          .map((s) => withoutRemote(s.labels))
          .sort();
      expect(of('many'), name).toEqual(of('one'));
      for (const value of series.flatMap((s) => Object.values(s.labels))) {
        expect(tagSet.has(value) || value.includes('sha256') || value.includes('/'), `${name}: ${value}`).toBe(false);
      }
    }
    // One series per label set (a histogram's buckets and sum go with its count).
    expect(after.samples.filter((s) => s.name.startsWith('cistern_') && !/_(bucket|sum)$/.test(s.name)).length).toBeLessThan(60);
    expect(before.value('cistern_tasks_total', { kind: 'sync', state: 'completed' })).toBe(1);

    // The gauges hold what the upstream said last.
    expect(after.value('cistern_upstream_rate_limit_limit', { remote: 'many' })).toBe(100);
    expect(after.value('cistern_upstream_rate_limit_remaining', { remote: 'many' })).toBe(76);
    upstream.headers['ratelimit-remaining'] = '75;w=21600';
    await syncToEnd(cistern, many);
    const last = await scrapeMetrics(`${cistern.workerUrl}/metrics`);
    expect(last.value('cistern_upstream_rate_limit_remaining', { remote: 'many' })).toBe(75);
    expect(last.value('cistern_upstream_rate_limit_limit', { remote: 'many' })).toBe(100);

    // At info, state changes are logged and upstream requests are not.
    const lines = logLines(cistern.worker.output());
    expect(lines.filter((line) => line.msg === 'upstream request')).toEqual([]);
    expect(lines.filter((line) => line.taskId === manyId && typeof line.state === 'string').map((line) => line.state)).toEqual(['running', 'completed']);
  });
});
