import { versionManifests } from '@cistern/db';
import type { Remote } from '@cistern/db';
import { pushImage, startConnectProxy, startDistribution, type Distribution, type PushedManifest } from '@cistern/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SyncHarness } from './harness.ts';

const h = new SyncHarness();
beforeAll(() => h.start());
afterAll(() => h.stop());

/** Syncs the remote into a new repository: version 1 holds the image, and its layer is stored. */
async function expectMirrors(remote: Remote, image: PushedManifest) {
  const repository = await h.repository();
  const { result } = await h.sync(remote, repository);
  expect(result.version).toBe(1);
  expect(await versionManifests(h.db.prisma, repository.id, 1)).toEqual(new Set([image.digest]));
  expect(await h.storage.exists(image.blobs[1] as string)).toBe(true);
}

describe.each(['htpasswd', 'token'] as const)('sync from Distribution with %s auth', (auth) => {
  let upstream: Distribution;
  beforeAll(async () => {
    upstream = await startDistribution({ auth });
  });
  afterAll(() => upstream.stop());

  it('syncs with the remote credentials, stored encrypted', async () => {
    const image = await pushImage(upstream, 'team/app', 'v1');
    const remote = await h.remote({ url: upstream.url, upstreamName: 'team/app', username: upstream.username, password: upstream.password });
    expect(remote.passwordEncrypted).not.toContain(upstream.password);
    await expectMirrors(remote, image);
  });

  it('fails with UNAUTHORIZED on a wrong password', async () => {
    const remote = await h.remote({ url: upstream.url, upstreamName: 'team/app', username: upstream.username, password: 'wrong' });
    const repository = await h.repository();
    await expect(h.sync(remote, repository)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });
});

describe('sync through a proxy that requires credentials', () => {
  const credentials = { username: 'mirror', password: 'proxy-pa55' };
  let upstream: Distribution;
  let proxy: Awaited<ReturnType<typeof startConnectProxy>>;
  beforeAll(async () => {
    upstream = await startDistribution({ auth: 'token' });
    proxy = await startConnectProxy({ credentials });
  });
  afterAll(async () => {
    await proxy.stop();
    await upstream.stop();
  });

  it('authenticates to the proxy with proxyUsername and the stored-encrypted proxyPassword, and to the upstream with its own credentials', async () => {
    const image = await pushImage(upstream, 'team/app', 'v1');
    const base = { url: upstream.url, upstreamName: 'team/app', username: upstream.username, password: upstream.password, proxyUrl: proxy.url };
    const remote = await h.remote({ ...base, proxyUsername: credentials.username, proxyPassword: credentials.password });
    expect(remote.proxyPasswordEncrypted).not.toContain(credentials.password);
    await expectMirrors(remote, image);
    expect(proxy.tunnels.length).toBeGreaterThan(0);
    expect(proxy.tunnels.every((target) => target === new URL(upstream.url).host || target === new URL(upstream.tokenServer?.realm ?? upstream.url).host)).toBe(
      true,
    );
    const refusedBefore = proxy.refused;
    const wrong = await h.remote({ ...base, proxyUsername: credentials.username, proxyPassword: 'wrong' });
    await expect(h.sync(wrong, await h.repository())).rejects.toMatchObject({ code: 'UPSTREAM_ERROR' });
    expect(proxy.refused).toBeGreaterThan(refusedBefore);
  });
});
