import { createLogger } from '@cistern/config';
import { metricsRegistry } from '@cistern/metrics';
import { referrersTagFor, type Descriptor } from '@cistern/oci';
import { RegistryError, UpstreamLists } from '@cistern/registry-core';
import {
  createTestRedisPrefix,
  freePort,
  json,
  OCI_INDEX,
  pushImage,
  pushIndex,
  pushManifest,
  startDistribution,
  startFaultProxy,
  TEST_REDIS_URL,
  type Distribution,
  type FaultProxy,
  type PushedManifest,
} from '@cistern/testkit';
import { UpstreamClient } from '@cistern/upstream';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

// The upstream tag and referrers lists of a pull-through distribution, against a real Distribution
// 2.8.2 behind a fault proxy that counts what reaches it and fails it on demand.

const redisPrefix = createTestRedisPrefix();
const connections: Redis[] = [];
let upstream: Distribution;
let proxy: FaultProxy;
let image: PushedManifest;
let keys = 0;

const ARTIFACT = 'application/vnd.example.sbom+json';
const TAGS = ['B', 'a-tag', 'sha256-abc.sig', 'v1', 'v2'];
const never = async (): Promise<never> => {
  throw new Error('the fallback is for an upstream that cannot answer');
};

/** One registry process's lists: a Redis connection of its own over the shared prefix. */
function lists(options: { maxTags?: number; maxReferrers?: number; negativeTtlMs?: number } = {}): UpstreamLists {
  const redis = new Redis(TEST_REDIS_URL);
  connections.push(redis);
  return new UpstreamLists({ redis, prefix: `${redisPrefix.prefix}:pull-through`, logger: createLogger({ logLevel: 'silent' }), pollMs: 10, ...options });
}

function client(repository = 'lib/app', url = proxy.url): UpstreamClient {
  return new UpstreamClient({ url, upstreamName: repository, maxRetries: 0, retryBaseMs: 1, readTimeoutMs: 1000, connectTimeoutMs: 1000 });
}

/** A list key no other test used. */
const key = () => `key-${++keys}`;

async function listed(list: 'tags' | 'referrers', result: string): Promise<number> {
  const metric = await metricsRegistry.getSingleMetric('cistern_pull_through_list_requests_total')?.get();
  return metric?.values.find((v) => v.labels['list'] === list && v.labels['result'] === result)?.value ?? 0;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  upstream = await startDistribution();
  proxy = await startFaultProxy(upstream.url);
  image = await pushImage(upstream, 'lib/app', 'v1');
  for (const tag of TAGS.filter((t) => t !== 'v1')) await pushManifest(upstream, 'lib/app', tag, image.bytes, image.mediaType);
}, 60_000);

afterEach(() => {
  proxy.clearFaults();
  proxy.reset();
});

afterAll(async () => {
  for (const redis of connections) redis.disconnect();
  await redisPrefix.cleanup();
  await proxy?.stop();
  await upstream?.stop();
});

describe('upstream tag lists', () => {
  it('walks the upstream once, then answers from Redis within the TTL: filtered, in byte order', async () => {
    const k = key();
    const one = lists();
    const keep = (tag: string) => tag !== 'v2';
    expect(await one.tags(k, client(), 60_000, keep, never)).toEqual(['B', 'a-tag', 'sha256-abc.sig', 'v1']);
    const hits = await listed('tags', 'hit');
    // Another process, another filter: the same cached walk.
    expect(await lists().tags(k, client(), 60_000, () => true, never)).toEqual(TAGS);
    expect(await one.tags(k, client(), 60_000, keep, never)).toEqual(['B', 'a-tag', 'sha256-abc.sig', 'v1']);
    expect(proxy.count('GET', 'tags')).toBe(1);
    expect(await listed('tags', 'hit')).toBe(hits + 2);
  });

  it('walks again once the TTL has passed, and sees what changed upstream', async () => {
    const k = key();
    const one = lists();
    const moving = await pushImage(upstream, 'lib/moving', 'v1');
    expect(await one.tags(k, client('lib/moving'), 300, () => true, never)).toEqual(['v1']);
    await pushManifest(upstream, 'lib/moving', 'v2', moving.bytes, moving.mediaType);
    expect(await one.tags(k, client('lib/moving'), 300, () => true, never)).toEqual(['v1']);
    await sleep(400);
    expect(await one.tags(k, client('lib/moving'), 300, () => true, never)).toEqual(['v1', 'v2']);
    expect(proxy.count('GET', 'tags')).toBe(2);
  });

  it('makes one upstream walk for concurrent first requests of several processes', async () => {
    const k = key();
    proxy.inject({ kind: 'tags', fault: { type: 'delay', ms: 300 } });
    const processes = [lists(), lists(), lists()];
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => (processes[i % 3] as UpstreamLists).tags(k, client(), 60_000, () => true, never)));
    for (const answer of answers) expect(answer).toEqual(TAGS);
    expect(proxy.count('GET', 'tags')).toBe(1);
  });

  it('answers the fallback when the upstream is unreachable, times out, rate-limits or fails, and tries it again only after the TTL', async () => {
    const down = `http://127.0.0.1:${await freePort()}`;
    const cases: { name: string; client: UpstreamClient; fault?: Parameters<FaultProxy['inject']>[0]['fault'] }[] = [
      { name: 'unreachable', client: client('lib/app', down) },
      { name: 'reset', client: client(), fault: { type: 'reset' } },
      { name: 'timeout', client: client(), fault: { type: 'delay', ms: 2000 } },
      { name: '429', client: client(), fault: { type: 'status', status: 429, headers: { 'retry-after': '3600' } } },
      { name: '503', client: client(), fault: { type: 'status', status: 503 } },
    ];
    for (const c of cases) {
      proxy.reset();
      proxy.clearFaults();
      if (c.fault) proxy.inject({ kind: 'tags', fault: c.fault });
      const k = key();
      const before = await listed('tags', 'fallback');
      const cache = async () => ['cached-1', 'cached-2'];
      expect(await lists().tags(k, c.client, 60_000, (t) => t !== 'cached-2', cache), c.name).toEqual(['cached-1']);
      expect(await lists().tags(k, c.client, 60_000, () => true, cache), c.name).toEqual(['cached-1', 'cached-2']);
      expect(proxy.count('GET', 'tags'), c.name).toBe(c.fault ? 1 : 0);
      expect(await listed('tags', 'fallback'), c.name).toBe(before + 2);
    }
  });

  it('leaves the fallback once the upstream answers again after the TTL', async () => {
    const k = key();
    proxy.inject({ kind: 'tags', fault: { type: 'status', status: 503 }, times: 1 });
    const one = lists();
    const tags = () =>
      one.tags(
        k,
        client(),
        200,
        () => true,
        async () => ['cached'],
      );
    expect(await tags()).toEqual(['cached']);
    await sleep(300);
    expect(await tags()).toEqual(TAGS);
  });

  it('answers NAME_UNKNOWN for a repository the upstream does not have, without the fallback', async () => {
    const k = key();
    for (let i = 0; i < 2; i++) {
      const error = await lists()
        .tags(k, client('no/such'), 60_000, () => true, never)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RegistryError);
      expect((error as RegistryError).code).toBe('NAME_UNKNOWN');
    }
    expect(proxy.count('GET', 'tags')).toBe(1);
  });

  it('remembers NAME_UNKNOWN for the negative TTL only, not the tag TTL: a repository that appears upstream is listed soon', async () => {
    const k = key();
    const one = lists({ negativeTtlMs: 200 });
    const error = await one.tags(k, client('lib/later'), 60_000, () => true, never).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'NAME_UNKNOWN' });
    await pushImage(upstream, 'lib/later', 'v1');
    await sleep(300);
    expect(await one.tags(k, client('lib/later'), 60_000, () => true, never)).toEqual(['v1']);
  });

  it('refuses an upstream list longer than the bound with DENIED naming it', async () => {
    const error = await lists({ maxTags: 3 })
      .tags(key(), client(), 60_000, () => true, never)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect(error).toMatchObject({ code: 'DENIED', detail: { limit: 3 } });
  });
});

describe('upstream referrers', () => {
  let sbom: PushedManifest;
  let entry: Descriptor;

  beforeAll(async () => {
    sbom = await pushImage(upstream, 'lib/app', undefined, { subject: image.descriptor, artifactType: ARTIFACT });
    entry = { mediaType: sbom.mediaType, digest: sbom.digest, size: sbom.bytes.length, artifactType: ARTIFACT };
    // Distribution 2.8.2 has no Referrers API: clients keep the tag schema's index up to date.
    await pushIndex(upstream, 'lib/app', referrersTagFor(image.digest), [entry]);
  });

  it("reads the tag schema's index where the upstream has no Referrers API, once per TTL", async () => {
    const k = key();
    expect(await lists().referrers(k, client(), image.digest, 60_000, never)).toEqual([entry]);
    expect(await lists().referrers(k, client(), image.digest, 60_000, never)).toEqual([entry]);
    expect([proxy.count('GET', 'referrers'), proxy.count('GET', 'manifest')]).toEqual([1, 1]);
  });

  it('has no referrers for a subject without a tag-schema index', async () => {
    expect(await lists().referrers(key(), client(), sbom.digest, 60_000, never)).toEqual([]);
  });

  it("takes the Referrers API's answer where the upstream has one", async () => {
    const other = { mediaType: sbom.mediaType, digest: `sha256:${'0'.repeat(64)}`, size: 10, annotations: { a: 'b' } };
    proxy.inject({
      kind: 'referrers',
      fault: {
        type: 'status',
        status: 200,
        headers: { 'content-type': OCI_INDEX },
        body: json({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [entry, other] }).toString(),
      },
    });
    expect(await lists().referrers(key(), client(), image.digest, 60_000, never)).toEqual([other, entry]);
    expect(proxy.count('GET', 'manifest')).toBe(0);
  });

  it("answers the fallback when the tag schema's index upstream is no index, as for any upstream answering nonsense", async () => {
    const k = key();
    proxy.inject({ kind: 'manifest', fault: { type: 'status', status: 200, headers: { 'content-type': OCI_INDEX }, body: 'not an index' } });
    const before = await listed('referrers', 'fallback');
    for (let i = 0; i < 2; i++) expect(await lists().referrers(k, client(), image.digest, 60_000, async () => [entry])).toEqual([entry]);
    expect(await listed('referrers', 'fallback')).toBe(before + 2);
    expect(proxy.count('GET', 'manifest')).toBe(1);
  });

  it('answers the fallback while the upstream fails, and refuses more referrers than the bound', async () => {
    proxy.inject({ kind: 'referrers', fault: { type: 'status', status: 502 } });
    const before = await listed('referrers', 'fallback');
    expect(await lists().referrers(key(), client(), image.digest, 60_000, async () => [entry])).toEqual([entry]);
    expect(await listed('referrers', 'fallback')).toBe(before + 1);
    proxy.clearFaults();
    const error = await lists({ maxReferrers: 0 })
      .referrers(key(), client(), image.digest, 60_000, never)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'DENIED', detail: { limit: 0 } });
  });
});
