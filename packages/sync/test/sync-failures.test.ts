import { versionManifests, versionTags } from '@cistern/db';
import { DEFAULT_POLICY } from '@cistern/oci';
import { TaskCanceledError } from '@cistern/queue';
import { pushImage, pushIndex, startDistribution, startFaultProxy, type Distribution, type FaultProxy } from '@cistern/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Report } from '../src/index.ts';
import { RecordingProgress, SyncHarness } from './harness.ts';

const h = new SyncHarness();
let upstream: Distribution;
let proxy: FaultProxy;

beforeAll(async () => {
  await h.start();
  upstream = await startDistribution();
  proxy = await startFaultProxy(upstream.url);
});
afterEach(() => proxy.clearFaults());
afterAll(async () => {
  await proxy.stop();
  await upstream.stop();
  await h.stop();
});

async function versionCount(repositoryId: string): Promise<number> {
  return h.db.prisma.repositoryVersion.count({ where: { repositoryId } });
}

describe('sync failures', () => {
  it('names a blob that keeps failing upstream as failed, mirrors nothing partial, and warns', async () => {
    const repo = 'faults/persistent';
    const image = await pushImage(upstream, repo, 'v1', { layers: [Buffer.alloc(64 * 1024, 1)] });
    proxy.inject({ method: 'GET', kind: 'blob', pathIncludes: image.blobs[1], fault: { type: 'status', status: 503 } });
    const remote = await h.remote({ url: proxy.url, upstreamName: repo });
    const repository = await h.repository();
    const { result, progress } = await h.sync(remote, repository);
    expect(result.version).toBeNull();
    expect(result.warnings.map((w) => w.code)).toEqual(['NOTHING_MIRRORED', 'CONTENT_FAILED']);
    expect(progress.reports.get(Report.blobsFailed)?.items).toEqual([{ name: image.blobs[1], reason: expect.stringMatching(/^UPSTREAM_UNAVAILABLE/) }]);
    expect(progress.reports.get(Report.manifestsFailed)?.items?.map((i) => i.name)).toEqual([image.digest]);
    expect(await versionCount(repository.id)).toBe(1);
    expect(await h.storage.exists(image.blobs[1] as string)).toBe(false);
    expect(await h.storage.temporaryUsage()).toEqual({ files: 0, bytes: 0 });
  });

  it('never stores a blob whose bytes are corrupted upstream', async () => {
    const repo = 'faults/corrupt';
    const image = await pushImage(upstream, repo, 'v1', { layers: [Buffer.alloc(32 * 1024, 2)] });
    proxy.inject({ method: 'GET', kind: 'blob', pathIncludes: image.blobs[1], fault: { type: 'corrupt' } });
    const remote = await h.remote({ url: proxy.url, upstreamName: repo });
    const repository = await h.repository();
    const { result, progress } = await h.sync(remote, repository);
    expect(result.version).toBeNull();
    expect(progress.reports.get(Report.blobsFailed)?.items?.[0]?.reason).toMatch(/^DIGEST_MISMATCH/);
    expect(await h.storage.exists(image.blobs[1] as string)).toBe(false);
    expect(await versionCount(repository.id)).toBe(1);
    expect(await h.storage.temporaryUsage()).toEqual({ files: 0, bytes: 0 });
  });

  it('downloads anew a blob whose bytes did not verify once, within the retries', async () => {
    const repo = 'faults/corrupt-once';
    const image = await pushImage(upstream, repo, 'v1', { layers: [Buffer.alloc(4096, 9)] });
    proxy.inject({ method: 'GET', kind: 'blob', pathIncludes: image.blobs[1], fault: { type: 'corrupt' }, times: 1 });
    const remote = await h.remote({ url: proxy.url, upstreamName: repo, maxRetries: 2 });
    const before = proxy.count('GET', 'blob');
    const { result } = await h.sync(remote, await h.repository());
    expect(result.version).toBe(1);
    expect(result.warnings).toEqual([]);
    expect(proxy.count('GET', 'blob') - before).toBe(image.blobs.length + 1);
  });

  it('stops with a retryable error when the upstream goes down after the tag list, instead of skipping every tag', async () => {
    const repo = 'faults/outage';
    for (let i = 0; i < 12; i++) await pushImage(upstream, repo, `v${i}`, { layers: [Buffer.alloc(1024, i)] });
    proxy.inject({ kind: 'manifest', fault: { type: 'status', status: 503 } });
    proxy.inject({ kind: 'ping', fault: { type: 'status', status: 503 } });
    const remote = await h.remote({ url: proxy.url, upstreamName: repo, maxRetries: 0, downloadConcurrency: 2 });
    const repository = await h.repository();
    await expect(h.sync(remote, repository)).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', retryable: true });
    expect(await versionCount(repository.id)).toBe(1);
  });

  it('skips a cluster of manifests a live upstream fails for, and mirrors the rest', async () => {
    const repo = 'faults/cluster';
    const broken: string[] = [];
    for (let i = 0; i < 12; i++) broken.push((await pushImage(upstream, repo, `broken-${i}`, { layers: [Buffer.alloc(512, i)] })).digest);
    const good = await pushImage(upstream, repo, 'zz-good', { layers: [Buffer.alloc(512, 99)] });
    for (const digest of broken) proxy.inject({ method: 'GET', kind: 'manifest', pathIncludes: digest, fault: { type: 'status', status: 500 } });
    const remote = await h.remote({ url: proxy.url, upstreamName: repo, maxRetries: 0, downloadConcurrency: 1 });
    const repository = await h.repository();
    const { result, progress } = await h.sync(remote, repository);
    expect(result.version).toBe(1);
    expect(result.warnings.map((w) => w.code)).toEqual(['CONTENT_FAILED']);
    expect(Object.fromEntries(await versionTags(h.db.prisma, repository.id, 1))).toEqual({ 'zz-good': good.digest });
    expect(progress.done(Report.manifestsFailed)).toBe(12);
  });

  it('refuses an index entry the upstream no longer has, and mirrors the index; a digest in includes that is gone leaves too', async () => {
    const repo = 'faults/dangling';
    const kept = await pushImage(upstream, repo, undefined, { layers: [Buffer.alloc(512, 1)] });
    const gone = await pushImage(upstream, repo, undefined, { layers: [Buffer.alloc(512, 2)], architecture: 'arm64' });
    const index = await pushIndex(upstream, repo, 'multi', [kept.descriptor, gone.descriptor]);
    proxy.inject({
      kind: 'manifest',
      pathIncludes: gone.digest,
      fault: { type: 'status', status: 404, body: '{"errors":[{"code":"MANIFEST_UNKNOWN","message":"gone"}]}' },
    });
    const remote = await h.remote({ url: proxy.url, upstreamName: repo, includes: ['multi', gone.digest] });
    const repository = await h.repository();
    const { result, progress } = await h.sync(remote, repository, { mirror: true });
    expect(result.version).toBe(1);
    expect(result.warnings).toEqual([]);
    expect(Object.fromEntries(await versionTags(h.db.prisma, repository.id, 1))).toEqual({ multi: index.digest });
    expect(await versionManifests(h.db.prisma, repository.id, 1)).toEqual(new Set([index.digest, kept.digest]));
    expect(progress.done(Report.manifestsRefused)).toBe(1);
  });

  it('keeps a tag on its previous target in a mirror sync when its new target fails, and drops what was refused', async () => {
    const repo = 'faults/keep';
    const before = await pushImage(upstream, repo, 'moving', { layers: [Buffer.alloc(8 * 1024, 3)] });
    const leaving = await pushImage(upstream, repo, 'leaving', { layers: [Buffer.alloc(8 * 1024, 4)] });
    const steady = await pushImage(upstream, repo, 'steady', { layers: [Buffer.alloc(8 * 1024, 5)] });
    const remote = await h.remote({ url: proxy.url, upstreamName: repo });
    const repository = await h.repository();
    expect((await h.sync(remote, repository, { mirror: true })).result.version).toBe(1);

    // Upstream moves `moving` to an image whose layer never verifies, and `leaving` to one the policy refuses.
    const after = await pushImage(upstream, repo, 'moving', { layers: [Buffer.alloc(8 * 1024, 6)] });
    await pushImage(upstream, repo, 'leaving', { layers: [Buffer.alloc(8 * 1024, 7)], artifactType: 'application/vnd.example.refused.v1+json' });
    proxy.inject({ method: 'GET', kind: 'blob', pathIncludes: after.blobs[1], fault: { type: 'corrupt' } });
    const mediaTypePolicy = { ...DEFAULT_POLICY, deny: ['application/vnd.example.refused.*'] };
    const { result, progress } = await h.sync(remote, repository, { mirror: true, mediaTypePolicy });
    expect(result.version).toBe(2);
    expect(result.warnings.map((w) => w.code)).toEqual(['CONTENT_FAILED']);
    expect(Object.fromEntries(await versionTags(h.db.prisma, repository.id, 2))).toEqual({ moving: before.digest, steady: steady.digest });
    expect(await versionManifests(h.db.prisma, repository.id, 2)).toEqual(new Set([before.digest, steady.digest]));
    expect(progress.reports.get(Report.manifestsFailed)?.items?.map((i) => i.name)).toEqual([after.digest]);
    expect(progress.reports.get(Report.manifestsRefused)?.items?.map((i) => i.name)).toEqual(['leaving']);
    expect(leaving.digest).not.toBe(before.digest);
  });

  it('skips and names a manifest whose bytes never match its digest, and mirrors the rest', async () => {
    const repo = 'faults/bad-manifest';
    const bad = await pushImage(upstream, repo, 'bad');
    const good = await pushImage(upstream, repo, 'good', { layers: [Buffer.alloc(1024, 8)] });
    proxy.inject({ method: 'GET', kind: 'manifest', pathIncludes: bad.digest, fault: { type: 'corrupt' } });
    const remote = await h.remote({ url: proxy.url, upstreamName: repo, maxRetries: 1 });
    const repository = await h.repository();
    const { result, progress } = await h.sync(remote, repository, { mirror: true });
    expect(result.version).toBe(1);
    expect(Object.fromEntries(await versionTags(h.db.prisma, repository.id, 1))).toEqual({ good: good.digest });
    const failed = progress.reports.get(Report.manifestsFailed)?.items ?? [];
    expect(failed).toEqual([{ name: 'bad', reason: expect.stringMatching(/^DIGEST_MISMATCH/) }]);
  });

  it('recovers from a few transient faults within the retries', async () => {
    const repo = 'faults/transient';
    const image = await pushImage(upstream, repo, 'v1');
    proxy.inject({ method: 'GET', kind: 'blob', fault: { type: 'reset' }, times: 1 });
    proxy.inject({ method: 'HEAD', kind: 'manifest', fault: { type: 'status', status: 503 }, times: 1 });
    const remote = await h.remote({ url: proxy.url, upstreamName: repo });
    const repository = await h.repository();
    const { result } = await h.sync(remote, repository);
    expect(result.version).toBe(1);
    expect(await versionManifests(h.db.prisma, repository.id, 1)).toEqual(new Set([image.digest]));
  });

  it('stops at a long rate-limit window, keeps what it stored, and the next run resumes without refetching it', async () => {
    const repo = 'faults/ratelimit';
    await pushImage(upstream, repo, 'a');
    await pushImage(upstream, repo, 'b');
    await pushImage(upstream, repo, 'c');
    const remote = await h.remote({ url: proxy.url, upstreamName: repo, downloadConcurrency: 1 });
    const repository = await h.repository();
    proxy.inject({ method: 'GET', kind: 'manifest', skip: 2, fault: { type: 'status', status: 429, headers: { 'retry-after': '21600' } } });
    const error = await h.sync(remote, repository).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TOOMANYREQUESTS', retryable: false });
    expect(await versionCount(repository.id)).toBe(1);
    const storedBefore = await h.db.prisma.manifest.count();
    expect(storedBefore).toBeGreaterThanOrEqual(2);

    proxy.clearFaults();
    proxy.reset();
    const { result } = await h.sync(remote, repository);
    expect(result.version).toBe(1);
    expect((await versionManifests(h.db.prisma, repository.id, 1)).size).toBe(3);
    expect(proxy.count('GET', 'manifest')).toBe(1);
  });

  it('stops at a safe point when canceled and writes no version', async () => {
    const repo = 'faults/cancel';
    await pushImage(upstream, repo, 'a');
    await pushImage(upstream, repo, 'b');
    proxy.inject({ method: 'GET', kind: 'blob', fault: { type: 'delay', ms: 300 } });
    const remote = await h.remote({ url: proxy.url, upstreamName: repo, downloadConcurrency: 1 });
    const repository = await h.repository();
    const progress = new RecordingProgress();
    setTimeout(() => progress.cancel(), 400);
    await expect(h.sync(remote, repository, { progress })).rejects.toBeInstanceOf(TaskCanceledError);
    expect(await versionCount(repository.id)).toBe(1);
  });
});
