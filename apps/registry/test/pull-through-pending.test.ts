import { writeRepositoryVersion, type Prisma } from '@cistern/db';
import { ResourceLocks } from '@cistern/redis-lock';
import { CacheFlusher } from '@cistern/registry-core';
import {
  createTestRedisPrefix,
  pushImage,
  startOwnRedis,
  startDistribution,
  startFaultProxy,
  TEST_REDIS_URL,
  type Distribution,
  type FaultProxy,
} from '@cistern/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RegistryHarness } from './harness.ts';

// Pull-through pending writes against concurrent transactions (a pull's row whose id is lower than a
// committed one but which commits later, a flush between a view's two reads, a long version write),
// and against an unreachable Redis.
const h = new RegistryHarness();
const redisPrefix = createTestRedisPrefix();
let redis: Redis;
let upstream: Distribution;
let proxy: FaultProxy;
let url: string;
const ACCEPT = 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json';

function manifest(name: string, reference: string): Promise<Response> {
  return fetch(`${url}/v2/${name}/manifests/${reference}`, { headers: { accept: ACCEPT } });
}

async function cacheRepositoryId(upstreamName: string): Promise<string> {
  const repository = await h.db.prisma.repository.findFirstOrThrow({ where: { upstreamName, pullThrough: { name: 'hub' } } });
  return repository.id;
}

/** Resolves once some statement of this database waits on a lock another transaction holds. */
async function someoneWaits(): Promise<void> {
  for (let i = 0; i < 200; i += 1) {
    const [row] = await h.db.prisma.$queryRaw<{ n: bigint }[]>`
      SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`;
    if (row && row.n > 0n) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('no statement ever waited on the lock');
}

/** Runs `body` in a transaction that commits only once `commit` resolves. */
function openTransaction(body: (tx: Prisma.TransactionClient) => Promise<void>, commit: Promise<void>): Promise<void> {
  return h.db.prisma.$transaction(
    async (tx) => {
      await body(tx);
      await commit;
    },
    { timeout: 30_000 },
  );
}

function gate(): { opened: Promise<void>; open(): void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

beforeAll(async () => {
  await h.start();
  redis = new Redis(TEST_REDIS_URL);
  upstream = await startDistribution();
  proxy = await startFaultProxy(upstream.url);
  const remote = await h.remote({ url: proxy.url, upstreamName: null, policy: 'on_demand' });
  await h.db.prisma.distribution.create({ data: { name: 'hub', basePath: 'hub', remoteId: remote.id, tagTtlSeconds: 300 } });
  // The registry's own writer never runs here: each test flushes when it means to.
  url = (await h.registry({}, { PULL_THROUGH_FLUSH_MS: '3600000' })).url;
}, 120_000);

beforeEach(() => proxy.reset());

afterAll(async () => {
  redis?.disconnect();
  await redisPrefix.cleanup();
  await proxy?.stop();
  await upstream?.stop();
  await h.stop();
});

describe('pending cache writes', () => {
  it('a flush deletes only the rows it wrote: a row with a lower id that commits after the flush read it stays for the next', async () => {
    const image = await pushImage(upstream, 'lib/flush', 'v1');
    expect((await manifest('hub/lib/flush', 'v1')).status).toBe(200);
    const repositoryId = await cacheRepositoryId('lib/flush');
    const late = gate();
    // A pull's insert: its id is taken now, its commit comes after the flusher has read the rows.
    const pull = openTransaction(async (tx) => {
      // Holding the repository row also stops the flusher's version write right after its read.
      await tx.$queryRaw`SELECT 1 FROM "Repository" WHERE id = ${repositoryId}::uuid FOR NO KEY UPDATE`;
      await tx.pendingCacheWrite.create({ data: { repositoryId, manifestDigest: image.digest, tag: 'late' } });
    }, late.opened);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await h.db.prisma.pendingCacheWrite.create({ data: { repositoryId, manifestDigest: image.digest, tag: 'early' } });
    const flusher = new CacheFlusher({
      prisma: h.db.prisma,
      redis,
      prefix: redisPrefix.prefix,
      locks: new ResourceLocks(redis, redisPrefix.prefix, 30_000),
      logger: h.resources.logger,
      intervalMs: 100,
    });
    const flushed = flusher.flush();
    await someoneWaits();
    late.open();
    await pull;
    expect(await flushed).toBe(1);
    const tags = await h.db.prisma.repositoryTag.findMany({ where: { repositoryId, versionRemoved: null }, select: { name: true } });
    expect(tags.map((t) => t.name).sort()).toEqual(['early', 'v1']);
    // The late row is in no version yet: it must still be pending, not deleted with the others.
    expect(await h.db.prisma.pendingCacheWrite.findMany({ where: { repositoryId }, select: { tag: true } })).toEqual([{ tag: 'late' }]);
  });

  it('a pending row with a lower id that commits after a view was read is served, not hidden behind the cached view', async () => {
    const first = await pushImage(upstream, 'lib/view', 'v1');
    const second = await pushImage(upstream, 'lib/view', 'v2', { layers: [Buffer.from('second')] });
    expect((await manifest('hub/lib/view', 'v1')).status).toBe(200);
    expect((await manifest('hub/lib/view', second.digest)).status).toBe(200);
    const repositoryId = await cacheRepositoryId('lib/view');
    const late = gate();
    const pull = openTransaction(async (tx) => {
      await tx.pendingCacheWrite.create({ data: { repositoryId, manifestDigest: second.digest, tag: 'v2' } });
    }, late.opened);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await h.db.prisma.pendingCacheWrite.create({ data: { repositoryId, manifestDigest: first.digest, tag: 'also' } });
    // A pull reads the view while the lower row is still uncommitted.
    expect((await manifest('hub/lib/view', first.digest)).status).toBe(200);
    late.open();
    await pull;
    proxy.reset();
    const response = await manifest('hub/lib/view', 'v2');
    expect(response.status).toBe(200);
    expect(response.headers.get('docker-content-digest')).toBe(second.digest);
    // v2 is cached: at most a re-check HEAD, never a GET.
    expect(proxy.count('GET', 'manifest')).toBe(0);
  });

  it('a flush between a view reading its version and its pending rows does not serve a tag the rows removed', async () => {
    const image = await pushImage(upstream, 'lib/race', 'v1');
    expect((await manifest('hub/lib/race', 'v1')).status).toBe(200);
    const repositoryId = await cacheRepositoryId('lib/race');
    await writeRepositoryVersion(h.db.prisma, repositoryId, { addManifests: [image.digest], addTags: [['v1', image.digest]] });
    await h.db.prisma.pendingCacheWrite.deleteMany({ where: { repositoryId } });
    // What a re-check that met a 404 leaves: the tag's removal pending, the 404 remembered (the tag is still marked fresh).
    await h.db.prisma.pendingCacheWrite.create({ data: { repositoryId, tag: 'v1', manifestDigest: null } });
    const distribution = await h.db.prisma.distribution.findUniqueOrThrow({ where: { name: 'hub' } });
    const gone = { code: 'MANIFEST_UNKNOWN', message: 'manifest unknown to registry', detail: { reference: 'v1' } };
    await redis.set(`${h.resources.config.redisPrefix}:pull-through:negative:${distribution.id}:lib/race:v1`, JSON.stringify(gone), 'EX', 60);
    const flushed = gate();
    let served: Promise<Response> | undefined;
    // The flush writes its version and deletes the row while the pull, which read the older version, waits to read the rows.
    const flush = openTransaction(async (tx) => {
      await tx.$executeRaw`LOCK TABLE "PendingCacheWrite" IN ACCESS EXCLUSIVE MODE`;
      served = manifest('hub/lib/race', 'v1');
      await someoneWaits();
      await writeRepositoryVersion(h.db.prisma, repositoryId, { removeTags: ['v1'] });
      await tx.pendingCacheWrite.deleteMany({ where: { repositoryId } });
      flushed.open();
    }, flushed.opened);
    await flush;
    expect((await served)?.status).toBe(404);
  });

  it('a pull stores while a version write of its cache repository (a long sync, a flush) holds the repository row', async () => {
    const first = await pushImage(upstream, 'lib/busy', 'v1');
    await pushImage(upstream, 'lib/busy', 'v2', { layers: [Buffer.from('busy two')] });
    expect((await manifest('hub/lib/busy', 'v1')).status).toBe(200);
    const repositoryId = await cacheRepositoryId('lib/busy');
    const done = gate();
    let writing: Promise<unknown> | undefined;
    const stall = openTransaction(async (tx) => {
      // Stalls a real version write on its manifest's foreign-key check, after it locked the repository row.
      await tx.$queryRaw`SELECT 1 FROM "Manifest" WHERE digest = ${first.digest} FOR UPDATE`;
      writing = writeRepositoryVersion(h.db.prisma, repositoryId, { addManifests: [first.digest], addTags: [['v1', first.digest]] });
      await someoneWaits();
      try {
        const response = await fetch(`${url}/v2/hub/lib/busy/manifests/v2`, { headers: { accept: ACCEPT }, signal: AbortSignal.timeout(5000) });
        expect(response.status).toBe(200);
      } finally {
        done.open();
      }
    }, done.opened);
    await stall;
    await writing;
  });

  it("takes a 404 an older process remembered ('1') as a 404, and asks upstream past a remembered answer it cannot read", async () => {
    const distribution = await h.db.prisma.distribution.findUniqueOrThrow({ where: { name: 'hub' } });
    const remember = (tag: string, value: string) =>
      redis.set(`${h.resources.config.redisPrefix}:pull-through:negative:${distribution.id}:lib/remembered:${tag}`, value, 'EX', 60);
    await pushImage(upstream, 'lib/remembered', 'old');
    await remember('old', '1');
    const gone = await manifest('hub/lib/remembered', 'old');
    expect([gone.status, ((await gone.json()) as { errors: { code: string }[] }).errors[0]?.code]).toEqual([404, 'MANIFEST_UNKNOWN']);
    expect(proxy.count('GET', 'manifest')).toBe(0);
    for (const [tag, unreadable] of [
      ['code', '{"code":"NOT_A_CODE","message":"x"}'],
      ['json', '{not json'],
      ['null', 'null'],
    ] as const) {
      await pushImage(upstream, 'lib/remembered', tag);
      await remember(tag, unreadable);
      expect((await manifest('hub/lib/remembered', tag)).status).toBe(200);
    }
  });

  it('answers a tag or referrers list with 503 UNAVAILABLE, not a 500, while Redis is unreachable', async () => {
    const own = await startOwnRedis();
    try {
      const registry = await h.registry({}, { REDIS_URL: own.url, PULL_THROUGH_FLUSH_MS: '3600000' });
      const image = await pushImage(upstream, 'lib/listed', 'v1');
      expect((await fetch(`${registry.url}/v2/hub/lib/listed/tags/list`)).status).toBe(200);
      await own.stop();
      for (const path of ['tags/list', `referrers/${image.digest}`]) {
        const response = await fetch(`${registry.url}/v2/hub/lib/other/${path}`);
        expect([response.status, ((await response.json()) as { errors: { code: string }[] }).errors[0]?.code]).toEqual([503, 'UNAVAILABLE']);
      }
    } finally {
      await own.stop();
    }
  });
});
