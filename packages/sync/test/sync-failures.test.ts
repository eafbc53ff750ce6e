import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { versionManifests } from '@cistern/db';
import { TaskCanceledError, TaskError } from '@cistern/queue';
import { pushImage, startDistribution, startFaultProxy, type Distribution, type FaultProxy } from '@cistern/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
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

async function tempFiles(): Promise<string[]> {
  return readdir(path.join(h.storage.root, 'tmp')).catch(() => []);
}

describe('sync failures', () => {
  it('fails cleanly on a persistent upstream fault: no version, nothing partial visible', async () => {
    const repo = 'faults/persistent';
    const image = await pushImage(upstream, repo, 'v1', { layers: [Buffer.alloc(64 * 1024, 1)] });
    proxy.inject({ method: 'GET', kind: 'blob', pathIncludes: image.blobs[1], fault: { type: 'status', status: 503 } });
    const remote = await h.remote({ url: proxy.url, upstreamName: repo });
    const repository = await h.repository();
    const error = await h.sync(remote, repository).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskError);
    expect(error).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', retryable: true });
    expect(await versionCount(repository.id)).toBe(1);
    expect(await h.storage.exists(image.blobs[1] as string)).toBe(false);
    expect(await tempFiles()).toEqual([]);
  });

  it('never stores a blob whose bytes are corrupted upstream', async () => {
    const repo = 'faults/corrupt';
    const image = await pushImage(upstream, repo, 'v1', { layers: [Buffer.alloc(32 * 1024, 2)] });
    proxy.inject({ method: 'GET', kind: 'blob', pathIncludes: image.blobs[1], fault: { type: 'corrupt' } });
    const remote = await h.remote({ url: proxy.url, upstreamName: repo });
    const repository = await h.repository();
    await expect(h.sync(remote, repository)).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect(await h.storage.exists(image.blobs[1] as string)).toBe(false);
    expect(await versionCount(repository.id)).toBe(1);
    expect(await tempFiles()).toEqual([]);
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
