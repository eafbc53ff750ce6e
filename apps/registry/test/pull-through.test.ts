import { randomBytes } from 'node:crypto';
import type { Remote } from '@cistern/db';
import { pushImage, pushIndex, scrapeMetrics, sha256, startDistribution, startFaultProxy, type Distribution, type FaultProxy } from '@cistern/testkit';
import { cleanupOrphans } from '@cistern/storage-lifecycle';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RegistryHarness } from './harness.ts';

const h = new RegistryHarness();
let upstream: Distribution;
let proxy: FaultProxy;
let remote: Remote;
let url: string;
const FLUSH_MS = 1500;
const ACCEPT = 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json';

interface ErrorBody {
  errors: { code: string; message: string; detail?: Record<string, unknown> }[];
}

async function manifest(name: string, reference: string): Promise<Response> {
  return fetch(`${url}/v2/${name}/manifests/${reference}`, { headers: { accept: ACCEPT } });
}

/** What a client does: the manifest, then its config and layers; the manifest's digest. */
async function pull(name: string, reference: string): Promise<string> {
  const response = await manifest(name, reference);
  expect(response.status).toBe(200);
  const body = (await response.json()) as { config: { digest: string }; layers: { digest: string }[] };
  for (const blob of [body.config, ...body.layers]) {
    const got = await fetch(`${url}/v2/${name}/blobs/${blob.digest}`);
    expect(sha256(Buffer.from(await got.arrayBuffer()))).toBe(blob.digest);
  }
  return response.headers.get('docker-content-digest') ?? '';
}

async function errorOf(response: Response): Promise<[number, string, Record<string, unknown> | undefined]> {
  const body = (await response.json()) as ErrorBody;
  return [response.status, body.errors[0]?.code ?? '', body.errors[0]?.detail];
}

function pullThrough(name: string, basePath: string, remoteId: string, tagTtlSeconds: number) {
  return h.db.prisma.distribution.create({ data: { name, basePath, remoteId, tagTtlSeconds } });
}

function cacheRepository(distribution: string, upstreamName: string) {
  return h.db.prisma.repository.findFirst({ where: { upstreamName, pullThrough: { name: distribution } } });
}

const metric = async (labels: Record<string, string>, name = 'cistern_pull_through_requests_total') =>
  (await scrapeMetrics(`${url}/metrics`)).value(name, labels);

beforeAll(async () => {
  await h.start();
  upstream = await startDistribution();
  proxy = await startFaultProxy(upstream.url);
  remote = await h.remote({ url: proxy.url, upstreamName: null, policy: 'on_demand' });
  await pullThrough('hub', 'hub', remote.id, 300);
  await pullThrough('fast', 'fast', remote.id, 1);
  const strict = await h.remote({ url: proxy.url, upstreamName: null, upstreamRepositories: ['lib/allowed*'], excludes: ['bad*'], policy: 'on_demand' });
  await pullThrough('strict', 'strict', strict.id, 300);
  const single = await h.remote({ url: proxy.url, upstreamName: 'lib/only', policy: 'on_demand' });
  await pullThrough('single', 'single', single.id, 300);
  // Distributions are read anew on every request: a test that creates one pulls from it at once.
  url = (
    await h.registry(
      { distributionTtlMs: 0 },
      { PULL_THROUGH_FLUSH_MS: String(FLUSH_MS), PULL_THROUGH_NEGATIVE_TTL_SECONDS: '30', PULL_THROUGH_RECHECK_TIMEOUT_MS: '500' },
    )
  ).url;
}, 120_000);

beforeEach(() => proxy.reset());

afterAll(async () => {
  await proxy?.stop();
  await upstream?.stop();
  await h.stop();
});

describe('pull-through cache', () => {
  it('fetches a manifest and its blobs on the first pull and serves the second from the cache, with no upstream GET', async () => {
    const image = await pushImage(upstream, 'lib/first', 'v1', { layers: [randomBytes(64 * 1024), randomBytes(1024)] });
    proxy.reset();
    expect(await pull('hub/lib/first', 'v1')).toBe(image.digest);
    expect(proxy.count('GET', 'manifest')).toBe(1);
    expect(proxy.count('GET', 'blob')).toBe(3);
    proxy.reset();
    expect(await pull('hub/lib/first', 'v1')).toBe(image.digest);
    expect(await pull('hub/lib/first', image.digest)).toBe(image.digest);
    expect(proxy.counts()).toEqual({});
  });

  it('creates the cache repository with its upstream name, remote and distribution, so that a sync of it works', async () => {
    await pushImage(upstream, 'lib/synced', 'v1');
    await pushImage(upstream, 'lib/synced', 'v2');
    await pull('hub/lib/synced', 'v1');
    const repository = await cacheRepository('hub', 'lib/synced');
    expect(repository).toMatchObject({ name: 'hub/lib/synced', upstreamName: 'lib/synced', remoteId: remote.id, retainVersions: 3 });
    if (!repository) return;
    const version = await h.sync(remote, repository);
    expect(version).not.toBeNull();
    const tags = await h.db.prisma.repositoryTag.findMany({ where: { repositoryId: repository.id, versionRemoved: null }, select: { name: true } });
    expect(tags.map((t) => t.name).sort()).toEqual(['v1', 'v2']);
  });

  it('serves a tag moved upstream once its TTL ran out, re-checking with a HEAD', async () => {
    const before = await pushImage(upstream, 'lib/moving', 'v1');
    expect(await pull('fast/lib/moving', 'v1')).toBe(before.digest);
    const after = await pushImage(upstream, 'lib/moving', 'v1', { layers: [randomBytes(2048)] });
    // Within the TTL the cached target is served without asking.
    proxy.reset();
    expect((await manifest('fast/lib/moving', 'v1')).headers.get('docker-content-digest')).toBe(before.digest);
    expect(proxy.count('HEAD', 'manifest')).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await pull('fast/lib/moving', 'v1')).toBe(after.digest);
    expect(proxy.count('HEAD', 'manifest')).toBe(1);
    // Unchanged after the next TTL: a HEAD and no GET.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    proxy.reset();
    expect((await manifest('fast/lib/moving', 'v1')).headers.get('docker-content-digest')).toBe(after.digest);
    expect([proxy.count('HEAD', 'manifest'), proxy.count('GET', 'manifest')]).toEqual([1, 0]);
  });

  it('serves cached content while the upstream is slow or down (stale-if-error), and counts it', async () => {
    const image = await pushImage(upstream, 'lib/outage', 'v1');
    expect(await pull('fast/lib/outage', 'v1')).toBe(image.digest);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const stale = await metric({ object: 'manifest', result: 'stale' });
    const failed = await metric({ outcome: 'failed' }, 'cistern_pull_through_rechecks_total');
    // Slower than the re-check timeout: served from the cache once it has passed.
    proxy.inject({ method: 'HEAD', kind: 'manifest', fault: { type: 'delay', ms: 3000 }, times: 1 });
    const started = Date.now();
    expect(await pull('fast/lib/outage', 'v1')).toBe(image.digest);
    expect(Date.now() - started).toBeLessThan(2500);
    // Down: served from the cache, and so while the stale mark lasts, without asking.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    proxy.inject({ fault: { type: 'status', status: 503 } });
    expect(await pull('fast/lib/outage', 'v1')).toBe(image.digest);
    expect(await pull('fast/lib/outage', 'v1')).toBe(image.digest);
    expect(await metric({ object: 'manifest', result: 'stale' })).toBe(stale + 3);
    expect(await metric({ outcome: 'failed' }, 'cistern_pull_through_rechecks_total')).toBe(failed + 2);
    // A name never cached has nothing to serve: the failure is the upstream's, never a 404.
    expect((await errorOf(await manifest('fast/lib/never', 'v1')))[1]).toBe('UNAVAILABLE');
    proxy.clearFaults();
  });

  it('answers an upstream 404 with MANIFEST_UNKNOWN and remembers it: a retry makes no upstream request', async () => {
    const [status, code] = await errorOf(await manifest('hub/lib/missing', 'v1'));
    expect([status, code]).toEqual([404, 'MANIFEST_UNKNOWN']);
    expect(proxy.count('GET', 'manifest')).toBe(1);
    proxy.reset();
    expect((await errorOf(await manifest('hub/lib/missing', 'v1')))[1]).toBe('MANIFEST_UNKNOWN');
    expect(proxy.counts()).toEqual({});
    expect(await cacheRepository('hub', 'lib/missing')).toBeNull();
  });

  it('gives concurrent first pulls of a failing upstream one answer, and a retry within seconds the same without asking', async () => {
    proxy.inject({ kind: 'manifest', pathIncludes: 'lib/flaky', fault: { type: 'status', status: 503 } });
    try {
      const answers = await Promise.all(Array.from({ length: 10 }, async () => (await errorOf(await manifest('hub/lib/flaky', 'v1'))).slice(0, 2)));
      expect(answers).toEqual(Array.from({ length: 10 }, () => [503, 'UNAVAILABLE']));
      // One fetch, with the client's own retry (maxRetries 1 in the harness): not one per waiting pull.
      expect(proxy.count('GET', 'manifest')).toBeLessThanOrEqual(2);
      proxy.reset();
      expect((await errorOf(await manifest('hub/lib/flaky', 'v1'))).slice(0, 2)).toEqual([503, 'UNAVAILABLE']);
      expect(proxy.count('GET', 'manifest')).toBe(0);
    } finally {
      proxy.clearFaults();
    }
  });

  it('stops serving a tag deleted upstream once its TTL ran out', async () => {
    const image = await pushImage(upstream, 'lib/gone', 'v1');
    await pushImage(upstream, 'lib/gone', 'keep');
    expect(await pull('fast/lib/gone', 'v1')).toBe(image.digest);
    const deleted = await fetch(`${upstream.url}/v2/lib/gone/manifests/${image.digest}`, { method: 'DELETE' });
    expect(deleted.status).toBe(202);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await errorOf(await manifest('fast/lib/gone', 'v1')))[1]).toBe('MANIFEST_UNKNOWN');
    expect(await metric({ outcome: 'gone' }, 'cistern_pull_through_rechecks_total')).toBeGreaterThan(0);
  });

  it('refuses with DENIED, naming the rule, what the remote does not serve', async () => {
    await pushImage(upstream, 'lib/allowed', 'bad1');
    await pushImage(upstream, 'lib/allowed', 'good');
    await pushImage(upstream, 'lib/other', 'v1');
    proxy.reset();
    const outside = await errorOf(await manifest('strict/lib/other', 'v1'));
    expect(outside.slice(0, 2)).toEqual([403, 'DENIED']);
    expect(outside[2]).toMatchObject({ rule: 'upstreamRepositories' });
    const excluded = await errorOf(await manifest('strict/lib/allowed', 'bad1'));
    expect(excluded.slice(0, 2)).toEqual([403, 'DENIED']);
    expect(excluded[2]).toMatchObject({ rule: 'includes/excludes' });
    const single = await errorOf(await manifest('single/lib/other', 'v1'));
    expect(single.slice(0, 2)).toEqual([403, 'DENIED']);
    expect(single[2]).toMatchObject({ rule: 'upstreamName' });
    expect((await errorOf(await fetch(`${url}/v2/strict/lib/other/blobs/sha256:${'0'.repeat(64)}`)))[1]).toBe('DENIED');
    expect(proxy.counts()).toEqual({});
    expect(await pull('strict/lib/allowed', 'good')).toMatch(/^sha256:/);
    expect(await cacheRepository('strict', 'lib/other')).toBeNull();
  });

  it('caches only the platform a client pulls from a multi-arch index', async () => {
    const amd64 = await pushImage(upstream, 'lib/multi', undefined, { architecture: 'amd64', layers: [randomBytes(4096)] });
    const arm64 = await pushImage(upstream, 'lib/multi', undefined, { architecture: 'arm64', layers: [randomBytes(4096)] });
    const index = await pushIndex(upstream, 'lib/multi', 'v1', [
      { ...amd64.descriptor, platform: { architecture: 'amd64', os: 'linux' } },
      { ...arm64.descriptor, platform: { architecture: 'arm64', os: 'linux' } },
    ]);
    proxy.reset();
    const top = await manifest('hub/lib/multi', 'v1');
    expect(top.headers.get('docker-content-digest')).toBe(index.digest);
    expect(await pull('hub/lib/multi', arm64.digest)).toBe(arm64.digest);
    expect(proxy.count('GET', 'manifest')).toBe(2);
    for (const blob of arm64.blobs) await expect.poll(() => h.storage.exists(blob)).toBe(true);
    for (const blob of amd64.blobs) expect(await h.storage.exists(blob)).toBe(false);
    expect(await h.db.prisma.manifest.findUnique({ where: { digest: amd64.digest } })).toBeNull();
  });

  it('writes one version for a burst of pulls, and a cleanup meanwhile deletes nothing served', async () => {
    const images = await Promise.all(['a', 'b', 'c', 'd'].map((tag) => pushImage(upstream, 'lib/burst', tag)));
    // The first flush after the first pull may split the burst in two: start it right after one.
    await pull('hub/lib/burst', 'a');
    const repository = await cacheRepository('hub', 'lib/burst');
    const start = repository?.latestVersion ?? 0;
    await expect.poll(async () => (await cacheRepository('hub', 'lib/burst'))?.latestVersion, { timeout: 5000, interval: 50 }).toBe(start + 1);
    for (const tag of ['b', 'c', 'd']) await pull('hub/lib/burst', tag);
    await pull('hub/lib/burst', 'b');
    const pending = await h.db.prisma.pendingCacheWrite.count({ where: { repositoryId: repository?.id } });
    expect(pending).toBe(3);
    const cleaned = await cleanupOrphans(h.db.prisma, h.storage, { protectionTimeMinutes: 0, dryRun: false });
    expect([cleaned.manifests, cleaned.blobs]).toEqual([0, 0]);
    for (const [i, tag] of ['a', 'b', 'c', 'd'].entries()) expect(await pull('hub/lib/burst', tag)).toBe(images[i]?.digest);
    await expect.poll(async () => (await cacheRepository('hub', 'lib/burst'))?.latestVersion, { timeout: 5000, interval: 50 }).toBe(start + 2);
    await new Promise((resolve) => setTimeout(resolve, FLUSH_MS + 300));
    expect((await cacheRepository('hub', 'lib/burst'))?.latestVersion).toBe(start + 2);
    const tags = await h.db.prisma.repositoryTag.findMany({ where: { repositoryId: repository?.id, versionRemoved: null }, select: { name: true } });
    expect(tags.map((t) => t.name).sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(await h.db.prisma.pendingCacheWrite.count({ where: { repositoryId: repository?.id } })).toBe(0);
  });

  it("lists tags and referrers from the upstream while it answers, and the cache's own once it does not", async () => {
    const subject = await pushImage(upstream, 'lib/listed', 'v1');
    const referrer = await pushImage(upstream, 'lib/listed', undefined, { artifactType: 'application/vnd.example.sbom', subject: subject.descriptor });
    // Distribution 2.8.2 has no Referrers API: the tag schema's index names the referrer, as cosign and oras write it.
    const schemaTag = subject.digest.replace(':', '-');
    await pushIndex(upstream, 'lib/listed', schemaTag, [{ ...referrer.descriptor, artifactType: 'application/vnd.example.sbom' }]);
    await pushImage(upstream, 'lib/listed', 'v2');
    const list = async () => {
      const tags = (await (await fetch(`${url}/v2/fast/lib/listed/tags/list`)).json()) as { name: string; tags: string[] };
      const referrers = (await (await fetch(`${url}/v2/fast/lib/listed/referrers/${subject.digest}`)).json()) as { manifests: { digest: string }[] };
      return { tags: tags.tags, referrers: referrers.manifests.map((m) => m.digest) };
    };

    await pull('fast/lib/listed', 'v1');
    expect((await manifest('fast/lib/listed', referrer.digest)).status).toBe(200);
    // Up: the upstream's lists, v2 included though the cache never pulled it.
    expect(await list()).toEqual({ tags: [schemaTag, 'v1', 'v2'], referrers: [referrer.digest] });

    proxy.inject({ kind: 'tags', fault: { type: 'status', status: 503 } });
    proxy.inject({ kind: 'referrers', fault: { type: 'status', status: 503 } });
    proxy.inject({ kind: 'manifest', pathIncludes: schemaTag, fault: { type: 'status', status: 503 } });
    try {
      // Down, once the lists' TTL (1 s) ran out: what the cache holds.
      await new Promise((resolve) => setTimeout(resolve, 1200));
      expect(await list()).toEqual({ tags: ['v1'], referrers: [referrer.digest] });
      // Nothing cached to fall back on: unavailable, not an empty repository.
      expect((await errorOf(await fetch(`${url}/v2/fast/lib/never-pulled/tags/list`))).slice(0, 2)).toEqual([503, 'UNAVAILABLE']);
      expect(await metric({ list: 'tags', result: 'fallback' }, 'cistern_pull_through_list_requests_total')).toBeGreaterThan(0);
    } finally {
      proxy.clearFaults();
    }
  });

  it('refuses with DENIED what the media-type policy denies, and a cache repository name another repository holds', async () => {
    await pushImage(upstream, 'lib/denied', 'v1', { artifactType: 'application/vnd.example.denied' });
    await h.db.prisma.mediaTypePolicy.create({ data: { id: 'default', artifacts: true, allow: [], deny: ['application/vnd.example.denied'] } });
    try {
      const refused = await errorOf(await manifest('hub/lib/denied', 'v1'));
      expect(refused.slice(0, 2)).toEqual([403, 'DENIED']);
      expect(refused[2]).toMatchObject({ rule: 'media-type policy' });
      // Remembered for the negative TTL: a retry is refused without a request upstream.
      proxy.reset();
      expect((await errorOf(await manifest('hub/lib/denied', 'v1'))).slice(0, 3)).toEqual(refused);
      expect(proxy.count('GET', 'manifest')).toBe(0);
    } finally {
      await h.db.prisma.mediaTypePolicy.delete({ where: { id: 'default' } });
    }
    await pushImage(upstream, 'lib/taken', 'v1');
    await h.db.prisma.repository.create({ data: { name: 'hub/lib/taken' } });
    const taken = await errorOf(await manifest('hub/lib/taken', 'v1'));
    expect(taken.slice(0, 2)).toEqual([403, 'DENIED']);
    expect(taken[2]).toMatchObject({ repository: 'hub/lib/taken', rule: 'cache repository name' });
  });

  it('gives concurrent pulls of a tag that moved to refused content one re-check, and its refusal to the others', async () => {
    await pushImage(upstream, 'lib/turned', 'v1');
    await pull('fast/lib/turned', 'v1');
    await pushImage(upstream, 'lib/turned', 'v1', { artifactType: 'application/vnd.example.turned' });
    await h.db.prisma.mediaTypePolicy.create({ data: { id: 'default', artifacts: true, allow: [], deny: ['application/vnd.example.turned'] } });
    try {
      await new Promise((resolve) => setTimeout(resolve, 1100));
      proxy.reset();
      const answers = await Promise.all(Array.from({ length: 5 }, async () => (await errorOf(await manifest('fast/lib/turned', 'v1'))).slice(0, 2)));
      expect(answers).toEqual(Array.from({ length: 5 }, () => [403, 'DENIED']));
      expect([proxy.count('HEAD', 'manifest'), proxy.count('GET', 'manifest')]).toEqual([1, 1]);
    } finally {
      await h.db.prisma.mediaTypePolicy.delete({ where: { id: 'default' } });
    }
  });

  it("serves the registry mirror's names with the request shapes of dockerd (no base path) and containerd (?ns=)", async () => {
    const image = await pushImage(upstream, 'lib/mirrored', 'v1');
    await h.db.prisma.distribution.create({ data: { name: 'mirror', basePath: 'mirror', remoteId: remote.id, registryMirror: true } });
    const dockerdAccept =
      'application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json';
    const got = (path: string) => fetch(`${url}/v2/lib/mirrored/${path}`, { headers: { accept: dockerdAccept } });
    for (const query of ['', `?ns=${proxy.host}`]) {
      const response = await got(`manifests/v1${query}`);
      expect([response.status, response.headers.get('docker-content-digest')]).toEqual([200, image.digest]);
      const blob = await got(`blobs/${image.blobs[0] as string}${query}`);
      expect(sha256(Buffer.from(await blob.arrayBuffer()))).toBe(image.blobs[0]);
    }
    // containerd naming another registry: not this upstream's image of the same name.
    expect((await errorOf(await got('manifests/v1?ns=ghcr.io'))).slice(0, 2)).toEqual([404, 'NAME_UNKNOWN']);
    expect(await cacheRepository('mirror', 'lib/mirrored')).toMatchObject({ name: 'mirror/lib/mirrored' });
  });

  it('takes over the cache a deleted distribution of the same name left, with its versions', async () => {
    const image = await pushImage(upstream, 'lib/kept', 'v1');
    const first = await pullThrough('again', 'again', remote.id, 300);
    expect(await pull('again/lib/kept', 'v1')).toBe(image.digest);
    const left = await cacheRepository('again', 'lib/kept');
    await h.db.prisma.distribution.delete({ where: { id: first.id } });
    expect(await h.db.prisma.repository.findUniqueOrThrow({ where: { id: left?.id } })).toMatchObject({ pullThroughId: null });

    const second = await pullThrough('again', 'again', remote.id, 300);
    proxy.reset();
    const moved = await pushImage(upstream, 'lib/kept', 'v2');
    expect(await pull('again/lib/kept', 'v2')).toBe(moved.digest);
    expect(await h.db.prisma.repository.findUniqueOrThrow({ where: { id: left?.id } })).toMatchObject({ pullThroughId: second.id });
  });
});
