import { versionManifests } from '@cistern/db';
import { pushImage, startDistribution, type Distribution } from '@cistern/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SyncHarness } from './harness.ts';

const h = new SyncHarness();
beforeAll(() => h.start());
afterAll(() => h.stop());

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
    const repository = await h.repository();
    const { result } = await h.sync(remote, repository);
    expect(result.version).toBe(1);
    expect(await versionManifests(h.db.prisma, repository.id, 1)).toEqual(new Set([image.digest]));
    expect(await h.storage.exists(image.blobs[1] as string)).toBe(true);
  });

  it('fails with UNAUTHORIZED on a wrong password', async () => {
    const remote = await h.remote({ url: upstream.url, upstreamName: 'team/app', username: upstream.username, password: 'wrong' });
    const repository = await h.repository();
    await expect(h.sync(remote, repository)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });
});
