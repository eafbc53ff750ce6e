import { randomBytes } from 'node:crypto';
import type { Repository } from '@cistern/db';
import { reclaimSpace } from '@cistern/storage-lifecycle';
import { pushImage, sha256, startDistribution, startFaultProxy, type Distribution, type FaultProxy, type PushedManifest } from '@cistern/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryHarness } from './harness.ts';

const h = new RegistryHarness();
let upstream: Distribution;
let proxy: FaultProxy;
let url: string;
let repository: Repository;
let v1: PushedManifest;
let v2: PushedManifest;

async function state(digest: string): Promise<{ stored: boolean | undefined; file: boolean }> {
  const row = await h.db.prisma.blob.findUnique({ where: { digest } });
  return { stored: row?.stored, file: await h.storage.exists(digest) };
}

beforeAll(async () => {
  await h.start();
  upstream = await startDistribution();
  proxy = await startFaultProxy(upstream.url);
  const base = randomBytes(64 * 1024);
  v1 = await pushImage(upstream, 'lib/app', 'v1', { layers: [base, randomBytes(512 * 1024)] });
  v2 = await pushImage(upstream, 'lib/app', 'v2', { layers: [base, randomBytes(256 * 1024)] });
  // Version 1 mirrors tag v1 (every blob downloaded); version 2 moved on to v2.
  repository = await h.repository();
  await h.sync(await h.remote({ url: proxy.url, upstreamName: 'lib/app', includes: ['v1'] }), repository, true);
  await h.sync(await h.remote({ url: proxy.url, upstreamName: 'lib/app', includes: ['v2'] }), repository, true);
  await h.distribution('app', repository.id);
  url = (await h.registry()).url;
}, 180_000);

afterAll(async () => {
  await proxy?.stop();
  await upstream?.stop();
  await h.stop();
});

describe('a pull after reclaim', () => {
  it('streams a reclaimed blob from the remote and stores it again', async () => {
    const [config, , layer] = v1.blobs as [string, string, string];
    const figures = await reclaimSpace(h.db.prisma, h.storage, { repositoryIds: [repository.id], keepVersions: 1 });
    expect(figures.blobs).toBe(2);
    expect(await state(layer)).toEqual({ stored: false, file: false });
    for (const blob of v2.blobs) expect(await state(blob)).toEqual({ stored: true, file: true });

    // Someone needs the old version again: a distribution pinned to it serves it.
    const version = await h.db.prisma.repositoryVersion.findUniqueOrThrow({ where: { repositoryId_number: { repositoryId: repository.id, number: 1 } } });
    await h.db.prisma.distribution.create({ data: { name: 'old', basePath: 'old', repositoryVersionId: version.id } });
    proxy.reset();
    const manifest = await fetch(`${url}/v2/old/manifests/v1`, { headers: { accept: v1.mediaType } });
    expect(manifest.headers.get('docker-content-digest')).toBe(v1.digest);
    for (const blob of [config, layer]) {
      const response = await fetch(`${url}/v2/old/blobs/${blob}`);
      expect(response.status).toBe(200);
      expect(sha256(Buffer.from(await response.arrayBuffer()))).toBe(blob);
      await expect.poll(() => state(blob)).toEqual({ stored: true, file: true });
    }
    expect(proxy.count('GET', 'blob')).toBe(2);
    // Stored again: the next pull is local.
    const again = await fetch(`${url}/v2/old/blobs/${layer}`);
    expect(sha256(Buffer.from(await again.arrayBuffer()))).toBe(layer);
    expect(proxy.count('GET', 'blob')).toBe(2);
  });
});
