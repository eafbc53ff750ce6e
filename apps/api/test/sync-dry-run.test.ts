/* eslint-disable @typescript-eslint/no-explicit-any -- tests read JSON replies loosely */
import { randomBytes } from 'node:crypto';
import { createRedis, createTaskWorker, redisConnectionOptions } from '@cistern/queue';
import { repositoryVersionHref, syncPlanHref } from '@cistern/runtime';
import { syncTask } from '@cistern/sync';
import {
  json,
  pushBlob,
  pushImage,
  pushManifest,
  pushMultiArch,
  startDistribution,
  startFaultProxy,
  TEST_REDIS_URL,
  waitFor,
  type Distribution,
  type FaultProxy,
} from '@cistern/testkit';
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiHarness, type Reply } from './harness.ts';

const REPO = 'plan/app';
const HELM_CONFIG = 'application/vnd.cncf.helm.config.v1+json';

const h = new ApiHarness();
let upstream: Distribution;
let proxy: FaultProxy;
let redis: Redis;
let worker: Worker | undefined;
let remoteId: string;
let repoId: string;
/** Upstream requests by kind, of each dry-run and the real sync after it: the figures the issue asks to measure. */
const measured: Record<string, Record<string, number>> = {};

beforeAll(async () => {
  await h.start();
  upstream = await startDistribution();
  proxy = await startFaultProxy(upstream.url);
  redis = createRedis(TEST_REDIS_URL);
  remoteId = (await h.post('/api/v1/remotes', { name: 'planned', url: proxy.url, upstreamName: REPO })).body.id;
  repoId = (await h.post('/api/v1/repositories', { name: 'planned', remote: remoteId })).body.id;
});
afterAll(async () => {
  await worker?.close();
  redis.disconnect();
  await proxy.stop();
  await upstream.stop();
  await h.stop();
  console.log('upstream requests by kind', JSON.stringify(measured, null, 1));
});

function startWorker(): Worker {
  worker = createTaskWorker({
    prisma: h.prisma,
    connection: redisConnectionOptions(TEST_REDIS_URL),
    queue: h.taskQueue,
    redis,
    logger: h.resources.logger,
    name: 'plan-worker',
    prefix: h.prefix,
    tasks: [
      syncTask.bind({
        prisma: h.prisma,
        storage: h.resources.storage,
        secretKey: h.resources.secretKey,
        maxManifestBytes: 4 << 20,
        versionHref: repositoryVersionHref,
        planHref: syncPlanHref,
      }),
    ],
  });
  return worker;
}

/** Runs a sync (or a dry-run) through the API to its end; the upstream requests it made, by `"<METHOD> <kind>"`. */
async function sync(body: Record<string, unknown>): Promise<{ task: any; requests: Record<string, number> }> {
  proxy.reset();
  const accepted = await h.post(`/api/v1/repositories/${repoId}/sync`, body);
  expect(accepted.status).toBe(202);
  const task = await waitFor(`task ${accepted.body.task.id}`, async () => {
    const reply = await h.get(`/api/v1/tasks/${accepted.body.task.id}`);
    return ['completed', 'failed', 'canceled'].includes(reply.body.state) ? reply.body : undefined;
  });
  expect(task).toMatchObject({ state: 'completed', error: null });
  return { task, requests: proxy.counts() };
}

/** Every entry of one kind of a plan, read page by page. */
async function planEntries(task: any, kind: 'tags' | 'manifests' | 'blobs'): Promise<any[]> {
  const entries: any[] = [];
  for (let url: string | null = `${task.result.plan}?kind=${kind}&limit=2`; url !== null;) {
    const page: Reply = await h.get(url.replace(/^.*\/api\/v1/, '/api/v1'));
    expect(page.status).toBe(200);
    entries.push(...page.body.results);
    url = page.body.next;
  }
  return entries;
}

const sizes = async (digests: string[]) =>
  Object.fromEntries(
    await Promise.all(
      digests.map(async (d) => [d, Number((await fetch(`${upstream.url}/v2/${REPO}/blobs/${d}`, { method: 'HEAD' })).headers.get('content-length'))]),
    ),
  );

const byName = (entries: any[]) => Object.fromEntries(entries.map((e) => [e.name, e]));

async function pushHelmChart(tag: string): Promise<string> {
  const config = json({ name: 'chart', version: '1.0.0' });
  const chart = randomBytes(512);
  const manifest = json({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: HELM_CONFIG, digest: await pushBlob(upstream, REPO, config), size: config.length },
    layers: [{ mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip', digest: await pushBlob(upstream, REPO, chart), size: chart.length }],
  });
  return pushManifest(upstream, REPO, tag, manifest, 'application/vnd.oci.image.manifest.v1+json');
}

describe('sync dry-run', () => {
  it('is never deduplicated with a real sync, in either order; two equal dry-runs are one task', async () => {
    const real = await h.post(`/api/v1/repositories/${repoId}/sync`, { mirror: true });
    const dry = await h.post(`/api/v1/repositories/${repoId}/sync`, { mirror: true, dryRun: true });
    const dryAgain = await h.post(`/api/v1/repositories/${repoId}/sync`, { mirror: true, dryRun: true });
    const realAgain = await h.post(`/api/v1/repositories/${repoId}/sync`, { mirror: true });
    expect([real.status, dry.status, dryAgain.status, realAgain.status]).toEqual([202, 202, 202, 202]);
    expect(dry.body.task.id).not.toBe(real.body.task.id);
    expect(dryAgain.body.task.id).toBe(dry.body.task.id);
    expect(realAgain.body.task.id).toBe(real.body.task.id);
    expect(dry.body.task.params).toEqual({ repositoryId: repoId, remoteId, mirror: true, dryRun: true });
    expect(real.body.task.params).toEqual({ repositoryId: repoId, remoteId, mirror: true });
    for (const id of [real.body.task.id, dry.body.task.id]) expect((await h.post(`/api/v1/tasks/${id}/cancel`)).body.state).toBe('canceled');
  });

  it('plans a first sync exactly, with no blob GET, no version and nothing stored', async () => {
    const v1 = await pushImage(upstream, REPO, 'v1');
    const v2 = await pushImage(upstream, REPO, 'v2', { layers: [randomBytes(2048), randomBytes(300)] });
    const multi = await pushMultiArch(upstream, REPO, 'multi');
    startWorker();

    const { task, requests } = await sync({ mirror: true, dryRun: true });
    measured['first dry-run'] = requests;
    expect(requests['GET blob'] ?? 0).toBe(0);
    expect(requests['HEAD manifest']).toBe(3);
    expect(requests['GET manifest']).toBe(5);
    const blobs = [...new Set([...v1.blobs, ...v2.blobs, ...multi.images.flatMap((i) => i.blobs)])];
    const blobSizes = await sizes(blobs);
    const bytes = Object.values(blobSizes).reduce((a: number, b) => a + (b as number), 0);
    expect(task.result).toEqual({
      dryRun: true,
      tagsAdded: 3,
      tagsMoved: 0,
      tagsRemoved: 0,
      tagsUnchanged: 0,
      manifestsNew: 5,
      manifestsStored: 0,
      manifestsRefused: 0,
      manifestsFailed: 0,
      manifestsRemoved: 0,
      blobsToDownload: blobs.length,
      bytesToDownload: bytes,
      blobsToRecord: 0,
      plan: `/api/v1/tasks/${task.id}/plan`,
    });
    expect(task.createdResources).toEqual([]);
    expect(byName(await planEntries(task, 'tags'))).toEqual({
      v1: { change: 'added', name: 'v1', digest: v1.digest, from: null, reason: null, size: null },
      v2: { change: 'added', name: 'v2', digest: v2.digest, from: null, reason: null, size: null },
      multi: { change: 'added', name: 'multi', digest: multi.index.digest, from: null, reason: null, size: null },
    });
    const manifests = await planEntries(task, 'manifests');
    expect(manifests.map((m) => m.change)).toEqual(['new', 'new', 'new', 'new', 'new']);
    expect(new Set(manifests.map((m) => m.digest))).toEqual(new Set([v1.digest, v2.digest, multi.index.digest, ...multi.images.map((i) => i.digest)]));
    const planned = await planEntries(task, 'blobs');
    expect(Object.fromEntries(planned.map((b) => [b.digest, b.size]))).toEqual(blobSizes);
    expect(planned.every((b) => b.change === 'download')).toBe(true);

    expect((await h.get(`/api/v1/repositories/${repoId}`)).body.latestVersion).toBe(0);
    expect(await h.prisma.manifest.count()).toBe(0);
    expect(await h.prisma.blob.count()).toBe(0);
    expect(task.progressReports.filter((r: any) => r.state === 'running')).toEqual([]);
  });

  it('plans a resync after the upstream changed: a tag added, one moved, one removed, a media type the policy denies', async () => {
    const first = await sync({ mirror: true });
    measured['first real sync'] = first.requests;
    expect(first.task.createdResources).toEqual([`/api/v1/repositories/${repoId}/versions/1`]);
    const known = new Set((await h.prisma.manifest.findMany({ select: { digest: true } })).map((m) => m.digest));
    const stored = new Set((await h.prisma.blob.findMany({ where: { stored: true }, select: { digest: true } })).map((b) => b.digest));
    const before = Object.fromEntries((await h.prisma.repositoryTag.findMany({ where: { repositoryId: repoId } })).map((t) => [t.name, t.manifestDigest]));

    const v3 = await pushImage(upstream, REPO, 'v3');
    const v2 = await pushImage(upstream, REPO, 'v2');
    const deleted = await fetch(`${upstream.url}/v2/${REPO}/manifests/${before.v1}`, { method: 'DELETE' });
    expect(deleted.status).toBe(202);
    const chart = await pushHelmChart('chart');
    expect((await h.put('/api/v1/settings/media-types', { deny: ['application/vnd.cncf.helm.*'] })).status).toBe(200);

    // What a dry-run must leave as it found it: last uses (set back, as for content a cleanup may soon collect), artifacts, holds.
    await h.prisma.$executeRaw`UPDATE "Manifest" SET "lastUsedAt" = CURRENT_TIMESTAMP - interval '1 day'`;
    await h.prisma.$executeRaw`UPDATE "Blob" SET "lastUsedAt" = CURRENT_TIMESTAMP - interval '1 day'`;
    const untouched = async () => ({
      manifests: await h.prisma.manifest.findMany({ select: { digest: true, lastUsedAt: true }, orderBy: { digest: 'asc' } }),
      blobs: await h.prisma.blob.findMany({ select: { digest: true, lastUsedAt: true, stored: true }, orderBy: { digest: 'asc' } }),
      artifacts: await h.prisma.remoteArtifact.findMany({ orderBy: { blobDigest: 'asc' } }),
      holds: await h.prisma.contentHold.findMany(),
    });
    const found = await untouched();
    // A hold is deleted when released: a trigger remembers every one taken meanwhile.
    await h.prisma.$executeRawUnsafe(`CREATE TABLE "HoldTaken" ("holder" text)`);
    await h.prisma.$executeRawUnsafe(
      `CREATE FUNCTION hold_taken() RETURNS trigger AS $$ BEGIN INSERT INTO "HoldTaken" VALUES (NEW."holder"); RETURN NEW; END $$ LANGUAGE plpgsql`,
    );
    await h.prisma.$executeRawUnsafe(`CREATE TRIGGER hold_taken AFTER INSERT ON "ContentHold" FOR EACH ROW EXECUTE FUNCTION hold_taken()`);

    const { task, requests } = await sync({ mirror: true, dryRun: true });
    measured['resync dry-run'] = requests;
    expect(await untouched()).toEqual(found);
    expect(await h.prisma.$queryRaw`SELECT "holder" FROM "HoldTaken"`).toEqual([]);
    expect(requests['GET blob'] ?? 0).toBe(0);
    expect(requests['HEAD manifest']).toBe(4);
    const fetched = proxy.events.filter((e) => e.method === 'GET' && e.kind === 'manifest').map((e) => e.path.split('/').pop());
    expect(new Set(fetched)).toEqual(new Set([v3.digest, v2.digest, chart]));
    expect(fetched.filter((d) => known.has(d ?? ''))).toEqual([]);
    expect(task.result).toMatchObject({
      tagsAdded: 1,
      tagsMoved: 1,
      tagsRemoved: 1,
      tagsUnchanged: 1,
      manifestsNew: 2,
      manifestsStored: 3,
      manifestsRefused: 1,
      manifestsFailed: 0,
      manifestsRemoved: 2,
      blobsToDownload: new Set([...v3.blobs, ...v2.blobs].filter((d) => !stored.has(d))).size,
    });
    expect(byName(await planEntries(task, 'tags'))).toEqual({
      v3: { change: 'added', name: 'v3', digest: v3.digest, from: null, reason: null, size: null },
      v2: { change: 'moved', name: 'v2', digest: v2.digest, from: before.v2, reason: null, size: null },
      v1: { change: 'removed', name: 'v1', digest: before.v1, from: null, reason: null, size: null },
    });
    const refused = (await planEntries(task, 'manifests')).filter((m) => m.change === 'refused');
    expect(refused).toEqual([
      expect.objectContaining({ name: 'chart', digest: chart, reason: expect.stringContaining('deny pattern application/vnd.cncf.helm.*') }),
    ]);
    expect((await h.get(`/api/v1/repositories/${repoId}`)).body.latestVersion).toBe(1);
    expect(await h.prisma.manifest.count({ where: { digest: { in: [v3.digest, v2.digest] } } })).toBe(0);

    // The real sync does what the plan said.
    const real = await sync({ mirror: true });
    measured['resync real sync'] = real.requests;
    // The trigger sees the hold a real sync takes.
    expect(await h.prisma.$queryRaw`SELECT "holder" FROM "HoldTaken"`).toEqual([{ holder: `sync:${repoId}` }]);
    await h.prisma.$executeRawUnsafe(`DROP TRIGGER hold_taken ON "ContentHold"`);
    // Same listing, HEADs and manifest GETs as the dry-run; only the blob GETs it planned come on top.
    const { 'GET blob': blobGets, ...rest } = real.requests;
    expect(rest).toEqual(requests);
    expect(blobGets).toBe(task.result.blobsToDownload);
    const after = Object.fromEntries(
      (await h.prisma.repositoryTag.findMany({ where: { repositoryId: repoId, versionRemoved: null } })).map((t) => [t.name, t.manifestDigest]),
    );
    expect(after).toEqual({ v2: v2.digest, v3: v3.digest, multi: before.multi });
  });

  it('plans an additive on-demand sync: nothing removed, config blobs downloaded, layers recorded for the first pull', async () => {
    const v4 = await pushImage(upstream, REPO, 'v4', { architecture: 's390x' });
    const remote = (await h.post('/api/v1/remotes', { name: 'planned-lazy', url: proxy.url, upstreamName: REPO, policy: 'on_demand', includes: ['v*'] })).body;
    const repository = (await h.post('/api/v1/repositories', { name: 'planned-lazy', remote: remote.id })).body;
    const accepted = await h.post(`/api/v1/repositories/${repository.id}/sync`, { dryRun: true });
    const task = await waitFor('the additive dry-run', async () => {
      const reply = await h.get(`/api/v1/tasks/${accepted.body.task.id}`);
      return reply.body.state === 'completed' ? reply.body : undefined;
    });
    expect(task.result).toMatchObject({ tagsAdded: 3, tagsMoved: 0, tagsRemoved: 0, manifestsNew: 1, manifestsStored: 2, manifestsRemoved: 0 });
    expect((await planEntries(task, 'tags')).map((t) => t.name).sort()).toEqual(['v2', 'v3', 'v4']);
    // v2 and v3 are stored with their blobs; of v4's, a sync downloads the config and records the layer.
    const [config, layer] = v4.blobs;
    const blobSizes = await sizes(v4.blobs);
    expect(await planEntries(task, 'blobs')).toEqual([
      { change: 'download', name: null, digest: config, from: null, reason: null, size: blobSizes[config ?? ''] },
      { change: 'record', name: null, digest: layer, from: null, reason: null, size: blobSizes[layer ?? ''] },
    ]);
    expect(task.result).toMatchObject({ blobsToDownload: 1, blobsToRecord: 1, bytesToDownload: blobSizes[config ?? ''] });
  });

  it('keeps only the latest dry-run plan of a repository, and no entry for what stays as it is', async () => {
    const earlier = await h.prisma.task.findMany({ where: { kind: 'sync', resource: `repository:${repoId}` }, select: { id: true, result: true } });
    const { task } = await sync({ mirror: true, dryRun: true });
    // Since the real sync only v4 came (the additive test pushed it): what stays as it is is counted, not a row.
    expect(task.result).toMatchObject({ tagsAdded: 1, tagsUnchanged: 3, manifestsNew: 1, manifestsStored: 5, manifestsRefused: 1, blobsToDownload: 2 });
    const rows = await h.prisma.syncPlanEntry.groupBy({ by: ['kind', 'change'], where: { taskId: task.id }, _count: true });
    expect(rows.map((r) => `${r.kind} ${r.change} ${r._count}`).sort()).toEqual(['blob download 2', 'manifest new 1', 'manifest refused 1', 'tag added 1']);
    // The earlier dry-runs keep their counts; their entries are gone and their plan pages list nothing.
    const dryRuns = earlier.filter((t) => t.result !== null);
    expect(dryRuns.length).toBeGreaterThanOrEqual(2);
    expect(await h.prisma.syncPlanEntry.count({ where: { taskId: { in: earlier.map((t) => t.id) } } })).toBe(0);
    for (const old of dryRuns) {
      expect((await h.get(`/api/v1/tasks/${old.id}`)).body.result).toEqual(old.result);
      expect((await h.get(`/api/v1/tasks/${old.id}/plan?kind=tags`)).body).toMatchObject({ count: 0, results: [] });
    }
  });

  it('publishes the plan in the OpenAPI document: the result summary and the paged entries', async () => {
    const doc = (await h.get('/openapi.json', null)).body;
    expect(Object.keys(doc.components.schemas.SyncPlanSummary.properties)).toEqual(expect.arrayContaining(['tagsMoved', 'bytesToDownload', 'plan']));
    expect(JSON.stringify(doc.components.schemas.Task.properties.result)).toContain('#/components/schemas/SyncPlanSummary');
    const plan = doc.paths['/api/v1/tasks/{id}/plan'].get;
    expect(plan.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['kind', 'limit', 'offset']));
    expect(JSON.stringify(plan.responses['200'])).toContain('#/components/schemas/SyncPlanEntry');
  });

  it('answers 404 for the plan of a task that is no dry-run, 400 for an unknown kind; a plan goes with its task', async () => {
    const tasks: any[] = (await h.get(`/api/v1/tasks?kind=sync&state=completed`)).body.results;
    const real = tasks.find((t) => !t.params.dryRun);
    expect((await h.get(`/api/v1/tasks/${real.id}/plan?kind=tags`)).status).toBe(404);
    expect((await h.get(`/api/v1/tasks/${real.id}/plan?kind=layers`)).status).toBe(400);
    const noKind = await h.get(`/api/v1/tasks/${real.id}/plan`);
    expect([noKind.status, noKind.body.error.details[0].message]).toEqual([400, 'give which part of the plan to list: tags, manifests or blobs']);
    const dry = tasks.find((t) => t.params.dryRun);
    expect(await h.prisma.syncPlanEntry.count({ where: { taskId: dry.id } })).toBeGreaterThan(0);
    await h.prisma.task.delete({ where: { id: dry.id } });
    expect(await h.prisma.syncPlanEntry.count({ where: { taskId: dry.id } })).toBe(0);
  });
});
