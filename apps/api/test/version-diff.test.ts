import { randomBytes } from 'node:crypto';
import { contentTasks } from '@cistern/content-actions';
import { createRedis, createTaskWorker, redisConnectionOptions } from '@cistern/queue';
import { repositoryVersionHref, syncPlanHref } from '@cistern/runtime';
import { syncTask } from '@cistern/sync';
import {
  json,
  OCI_CONFIG,
  OCI_INDEX,
  OCI_LAYER_GZIP,
  OCI_MANIFEST,
  startSyntheticUpstream,
  TEST_REDIS_URL,
  waitFor,
  type SyntheticUpstream,
} from '@cistern/testkit';
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiHarness, remoteBody } from './harness.ts';

const h = new ApiHarness();
let upstream: SyntheticUpstream;
let worker: Worker;
let redis: Redis;
let repo: { id: string };

const UPSTREAM = 'team/app';
/** Blob digest → size, of everything the upstream serves. */
const sizes = new Map<string, number>();

function blob(mediaType: string, bytes: Buffer) {
  const digest = upstream.addBlob(UPSTREAM, bytes);
  sizes.set(digest, bytes.length);
  return { mediaType, digest, size: bytes.length };
}

/** A manifest of `config` and `layers` (each fresh unless given), served under `tags`; its digest and blobs. */
function manifest(body: { config: ReturnType<typeof blob>; layers: ReturnType<typeof blob>[]; artifactType?: string }, tags: string[]) {
  const bytes = json({ schemaVersion: 2, mediaType: OCI_MANIFEST, ...body });
  return { digest: upstream.addManifest(UPSTREAM, bytes, OCI_MANIFEST, tags), size: bytes.length, blobs: [body.config, ...body.layers].map((b) => b.digest) };
}

const image = (tags: string[], shared: ReturnType<typeof blob>[] = []) =>
  manifest(
    {
      config: blob(OCI_CONFIG, json({ architecture: 'amd64', os: 'linux', nonce: randomBytes(8).toString('hex') })),
      layers: [...shared, blob(OCI_LAYER_GZIP, randomBytes(300))],
    },
    tags,
  );

async function run(path: string, body: unknown) {
  const accepted = await h.post(`/api/v1/repositories/${repo.id}/${path}`, body);
  expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
  const task = await waitFor('the task to end', async () => {
    const row = (await h.get(`/api/v1/tasks/${accepted.body.task.id}`)).body;
    return ['completed', 'failed', 'canceled'].includes(row.state) ? row : undefined;
  });
  expect(task.state, JSON.stringify(task.error)).toBe('completed');
}

const diff = async (n: number, query = '') => h.get(`/api/v1/repositories/${repo.id}/versions/${n}/diff${query}`);
const byKey = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const blobChanges = (change: 'added' | 'removed', digests: string[]) =>
  [...new Set(digests)].sort(byKey).map((digest) => ({ type: 'blob', change, digest, size: sizes.get(digest) }));

// Version 1: two images sharing a layer, a helm chart, an SBOM and a cosign signature of one image.
// Version 2 (a mirror sync): tag b moves to a new image, tag idx names a new index of a and a new image; b's old image leaves.
// Version 3 (remove): the chart goes, with its tag and blobs.
type Served = ReturnType<typeof manifest>;
let v1: Record<'a' | 'b' | 'chart' | 'sbom' | 'sig', Served>;
let v2: Record<'c' | 'd' | 'idx', Served>;
let sigTag = '';

beforeAll(async () => {
  await h.start();
  upstream = await startSyntheticUpstream();
  const connection = redisConnectionOptions(TEST_REDIS_URL);
  redis = createRedis(TEST_REDIS_URL);
  const shared = { prisma: h.prisma, versionHref: repositoryVersionHref };
  worker = createTaskWorker({
    prisma: h.prisma,
    connection,
    queue: h.taskQueue,
    redis,
    tasks: [
      syncTask.bind({ ...shared, planHref: syncPlanHref, storage: h.resources.storage, secretKey: h.resources.secretKey, maxManifestBytes: 4 << 20 }),
      ...contentTasks.map((task) => task.bind(shared)),
    ],
    logger: h.resources.logger,
    name: 'diff-worker',
    prefix: h.prefix,
  });
  const remote = (await h.post('/api/v1/remotes', remoteBody({ url: upstream.url, upstreamName: UPSTREAM }))).body;
  repo = (await h.post('/api/v1/repositories', { name: 'diffed', remote: remote.id })).body;

  const base = blob(OCI_LAYER_GZIP, randomBytes(500));
  const a = image(['a'], [base]);
  const b = image(['b'], [base]);
  const chart = manifest(
    {
      config: blob('application/vnd.cncf.helm.config.v1+json', json({ name: 'app', version: '1.0.0', apiVersion: 'v2' })),
      layers: [blob('application/vnd.cncf.helm.chart.content.v1.tar+gzip', randomBytes(400))],
    },
    ['chart'],
  );
  const sbom = manifest(
    {
      artifactType: 'application/spdx+json',
      config: blob('application/vnd.oci.empty.v1+json', Buffer.from('{}')),
      layers: [blob('application/spdx+json', json({ spdxVersion: 'SPDX-2.3', name: 'app' }))],
    },
    ['sbom'],
  );
  sigTag = `sha256-${a.digest.slice('sha256:'.length)}.sig`;
  const sig = manifest(
    {
      config: blob(OCI_CONFIG, json({ architecture: '', os: '', rootfs: { type: 'layers', diff_ids: [] } })),
      layers: [blob('application/vnd.dev.cosign.simplesigning.v1+json', json({ critical: { image: { 'docker-manifest-digest': a.digest } } }))],
    },
    [sigTag],
  );
  v1 = { a, b, chart, sbom, sig };
  await run('sync', { mirror: true });

  const c = image(['b'], [base]);
  const d = image([]);
  const index = json({
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: [a, d].map((m, i) => ({
      mediaType: OCI_MANIFEST,
      digest: m.digest,
      size: m.size,
      platform: { architecture: ['amd64', 'arm64'][i], os: 'linux' },
    })),
  });
  v2 = { c, d, idx: { digest: upstream.addManifest(UPSTREAM, index, OCI_INDEX, ['idx']), size: index.length, blobs: [] } };
  await run('sync', { mirror: true });
  await run('remove', { digests: [chart.digest] });
}, 120_000);

afterAll(async () => {
  await worker?.close();
  redis?.disconnect();
  await upstream?.stop();
  await h.stop();
});

describe('version diffs', () => {
  it('lists every tag, manifest and blob a sync added against version 0, with classifications and sizes', async () => {
    const reply = await diff(1);
    expect(reply.status).toBe(200);
    const manifests = Object.values(v1);
    const blobs = [...new Set(manifests.flatMap((m) => m.blobs))];
    const bytes = blobs.reduce((sum, digest) => sum + (sizes.get(digest) as number), 0);
    expect(reply.body).toMatchObject({
      repository: repo.id,
      version: 1,
      base: 0,
      versionHref: `/api/v1/repositories/${repo.id}/versions/1`,
      baseHref: `/api/v1/repositories/${repo.id}/versions/0`,
      summary: {
        tags: { added: 5, removed: 0, moved: 0 },
        manifests: { added: { count: 5, bytes: expect.any(Number) }, removed: { count: 0, bytes: 0 } },
        blobs: { added: { count: blobs.length, bytes }, removed: { count: 0, bytes: 0 } },
      },
      next: null,
    });
    const tags = [
      ['a', v1.a],
      ['b', v1.b],
      ['chart', v1.chart],
      ['sbom', v1.sbom],
      [sigTag, v1.sig],
    ] as const;
    const classified = {
      [v1.a.digest]: 'image',
      [v1.b.digest]: 'image',
      [v1.chart.digest]: 'helm',
      [v1.sbom.digest]: 'sbom',
      [v1.sig.digest]: 'cosign-signature',
    };
    expect(reply.body.changes).toEqual([
      ...tags.map(([name, m]) => ({ type: 'tag', change: 'added', name, digest: m.digest, from: null })).sort((x, y) => byKey(x.name, y.name)),
      ...manifests
        .map((m) => m.digest)
        .sort(byKey)
        .map((digest) => expect.objectContaining({ type: 'manifest', change: 'added', digest, classification: classified[digest] })),
      ...blobChanges('added', blobs),
    ]);
    const manifestBytes = reply.body.changes
      .filter((c: { type: string }) => c.type === 'manifest')
      .reduce((sum: number, c: { size: number }) => sum + c.size, 0);
    expect(reply.body.summary.manifests.added.bytes).toBe(manifestBytes);
    expect((await diff(0)).body).toMatchObject({ version: 0, base: 0, changes: [], next: null, summary: { tags: { added: 0, removed: 0, moved: 0 } } });
  });

  it('shows a moved tag old → new, an index and its new child, and only the blobs no remaining manifest keeps', async () => {
    const reply = await diff(2);
    expect(reply.body.base).toBe(1);
    expect(reply.body.summary).toEqual({
      tags: { added: 1, removed: 0, moved: 1 },
      manifests: { added: { count: 3, bytes: expect.any(Number) }, removed: { count: 1, bytes: expect.any(Number) } },
      blobs: {
        added: { count: 4, bytes: [...v2.c.blobs.slice(0, 1), ...v2.c.blobs.slice(2), ...v2.d.blobs].reduce((s, d) => s + (sizes.get(d) as number), 0) },
        removed: { count: 2, bytes: [v1.b.blobs[0], v1.b.blobs[2]].reduce((s, d) => s + (sizes.get(d as string) as number), 0) },
      },
    });
    const manifests = [
      { digest: v2.c.digest, change: 'added', classification: 'image' },
      { digest: v2.d.digest, change: 'added', classification: 'image' },
      { digest: v2.idx.digest, change: 'added', classification: 'index', mediaType: OCI_INDEX },
      { digest: v1.b.digest, change: 'removed', classification: 'image' },
    ].sort((x, y) => byKey(x.digest, y.digest));
    expect(reply.body.changes).toEqual([
      { type: 'tag', change: 'moved', name: 'b', digest: v2.c.digest, from: v1.b.digest },
      { type: 'tag', change: 'added', name: 'idx', digest: v2.idx.digest, from: null },
      ...manifests.map((m) => expect.objectContaining({ type: 'manifest', ...m })),
      ...[
        ...blobChanges('added', [v2.c.blobs[0], v2.c.blobs[2], ...v2.d.blobs] as string[]),
        ...blobChanges('removed', [v1.b.blobs[0], v1.b.blobs[2]] as string[]),
      ].sort((x, y) => byKey(x.digest, y.digest)),
    ]);

    // Backwards: the same changes the other way round.
    const back = await diff(1, '?base=2');
    expect(back.body.summary).toMatchObject({ tags: { added: 0, removed: 1, moved: 1 }, manifests: { added: { count: 1 }, removed: { count: 3 } } });
    expect(back.body.changes.slice(0, 2)).toEqual([
      { type: 'tag', change: 'moved', name: 'b', digest: v1.b.digest, from: v2.c.digest },
      { type: 'tag', change: 'removed', name: 'idx', digest: v2.idx.digest, from: null },
    ]);
    expect((await diff(2, '?base=2')).body).toMatchObject({ changes: [], summary: { tags: { added: 0, removed: 0, moved: 0 } } });
  });

  it('shows a removed chart with its tag and blobs, by the content action that removed it', async () => {
    const reply = await diff(3);
    const removed = blobChanges('removed', v1.chart.blobs);
    expect(reply.body.changes).toEqual([
      { type: 'tag', change: 'removed', name: 'chart', digest: v1.chart.digest, from: null },
      expect.objectContaining({ type: 'manifest', change: 'removed', digest: v1.chart.digest, classification: 'helm' }),
      ...removed,
    ]);
    expect(reply.body.summary.blobs).toEqual({
      added: { count: 0, bytes: 0 },
      removed: { count: 2, bytes: removed.reduce((s, b) => s + (b.size as number), 0) },
    });
  });

  it('pages with limit and next across tags, manifests and blobs, the first page with the whole summary', async () => {
    const whole = (await diff(3, '?base=0&limit=1000')).body;
    expect(whole.changes.length).toBeGreaterThan(20);
    const seen: unknown[] = [];
    let url: string | null = `/api/v1/repositories/${repo.id}/versions/3/diff?base=0&limit=3`;
    let pages = 0;
    while (url) {
      const page: { changes: unknown[]; summary: unknown; base: number; next: string | null } = (await h.get(url)).body;
      expect(page.changes.length).toBeLessThanOrEqual(3);
      expect(page.summary).toEqual(pages === 0 ? whole.summary : null);
      expect(page.base).toBe(0);
      seen.push(...page.changes);
      url = page.next;
      pages += 1;
    }
    expect(pages).toBe(Math.ceil(whole.changes.length / 3));
    expect(seen).toEqual(whole.changes);
    const last = whole.changes.at(-1);
    expect((await diff(3, `?base=0&after=blob:${last.digest}`)).body).toMatchObject({ changes: [], next: null });
  });

  it('answers 404 VERSION_UNKNOWN for a version never written or pruned, 400 for nonsense, and keeps pinned versions', async () => {
    expect((await diff(9)).body.error.code).toBe('VERSION_UNKNOWN');
    const base = await diff(2, '?base=9');
    expect(base.status).toBe(404);
    expect(base.body.error).toMatchObject({ code: 'VERSION_UNKNOWN', details: [expect.objectContaining({ path: 'query.base' })] });
    expect((await h.get(`/api/v1/repositories/00000000-0000-4000-8000-000000000000/versions/1/diff`)).body.error.code).toBe('NOT_FOUND');
    for (const query of [
      '?base=-1',
      '?base=x',
      '?limit=0',
      '?limit=1001',
      '?after=nope',
      '?after=tag:',
      '?page=2',
      '?after=tag:%00',
      '?after=manifest:%00x',
      '?after=blob:a%00b',
      '?after=tag:a%07',
    ]) {
      const reply = await diff(2, query);
      expect(reply.status, query).toBe(400);
      expect(reply.body.error.code, query).toBe('VALIDATION_FAILED');
    }

    // Version 1 pinned by number survives deletion and retention; version 2, deleted, and version 3, pruned, are gone from diffs.
    const pin = await h.post('/api/v1/distributions', { name: 'diff-pin', basePath: 'diff/pin', repository: repo.id, repositoryVersion: 1 });
    expect(pin.body).toMatchObject({ repository: repo.id, repositoryVersion: 1 });
    expect((await h.delete(`/api/v1/repositories/${repo.id}/versions/1`)).body.error.code).toBe('IN_USE');
    expect((await h.delete(`/api/v1/repositories/${repo.id}/versions/2`)).status).toBe(204);
    expect((await diff(2)).status).toBe(404);
    expect((await diff(3, '?base=2')).body.error.code).toBe('VERSION_UNKNOWN');
    // The default base is the newest older version still stored.
    expect((await diff(3)).body).toMatchObject({ base: 1, summary: { tags: { added: 1, removed: 1, moved: 1 } } });

    await h.patch(`/api/v1/repositories/${repo.id}`, { retainVersions: 1 });
    await run('untag', { tags: ['sbom'] });
    const versions = (await h.get(`/api/v1/repositories/${repo.id}/versions`)).body.results.map((v: { number: number }) => v.number);
    expect(versions).toEqual([4, 1, 0]);
    expect((await diff(4, '?base=3')).body.error.code).toBe('VERSION_UNKNOWN');
    expect((await diff(4)).body).toMatchObject({ base: 1, summary: { tags: { added: 1, removed: 2, moved: 1 } } });
  });

  it('compares values, not rows: a tag or manifest removed and put back between two versions is no change', async () => {
    await h.patch(`/api/v1/repositories/${repo.id}`, { retainVersions: null });
    await run('untag', { tags: ['a'] });
    await run('tag', { tag: 'a', digest: v1.a.digest });
    await run('remove', { digests: [v1.sbom.digest] });
    await run('copy', { sourceRepositoryId: repo.id, sourceVersion: 6, digests: [v1.sbom.digest] });
    const empty = { tags: { added: 0, removed: 0, moved: 0 }, manifests: { added: { count: 0, bytes: 0 }, removed: { count: 0, bytes: 0 } } };
    expect((await diff(8, '?base=4')).body).toMatchObject({ changes: [], summary: empty });
    expect((await diff(6, '?base=4')).body.changes).toEqual([]);
    expect((await diff(8, '?base=6')).body.changes).toEqual([]);
    expect((await diff(5)).body.changes).toEqual([{ type: 'tag', change: 'removed', name: 'a', digest: v1.a.digest, from: null }]);
    const removed = (await diff(7)).body;
    expect(removed.summary.manifests.removed.count).toBe(1);
    expect(removed.changes.filter((c: { type: string }) => c.type === 'blob')).toEqual(blobChanges('removed', v1.sbom.blobs));
  });
});
