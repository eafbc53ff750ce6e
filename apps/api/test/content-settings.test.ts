import { loadPolicy } from '@cistern/settings';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiHarness } from './harness.ts';

const h = new ApiHarness();
const d = (c: string) => `sha256:${c.repeat(64)}`;
/** The sha512 name of d(c): the signature and the index name their image by it. */
const s = (c: string) => `sha512:${c.repeat(128)}`;
/** The query naming version 1 of the test's repository, as users write it. */
let inV1 = '';
let repoId = '';
beforeAll(async () => {
  await h.start();
  const repo = (await h.post('/api/v1/repositories', { name: 'content' })).body;
  await h.prisma.blob.createMany({
    data: [
      { digest: d('1'), size: 5n, stored: true, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' },
      { digest: d('2'), size: 7n },
    ],
  });
  const manifest = <T extends { classification: string }>(digest: string, extra: T) => ({
    digest,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    size: 100n,
    raw: Buffer.from('{}'),
    ...extra,
  });
  await h.prisma.manifest.create({
    data: manifest(d('a'), { classification: 'image', blobs: { create: { blobDigest: d('1'), role: 'layer', position: 0 } } }),
  });
  await h.prisma.manifestAlias.create({ data: { digest: s('a'), manifestDigest: d('a') } });
  await h.prisma.manifest.create({
    data: manifest(d('b'), {
      classification: 'cosign-signature',
      artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json',
      subjectDigest: s('a'),
      blobs: { create: { blobDigest: d('2'), role: 'layer', position: 0 } },
    }),
  });
  await h.prisma.manifest.create({
    data: manifest(d('c'), {
      mediaType: 'application/vnd.oci.image.index.v1+json',
      classification: 'index',
      children: { create: { position: 0, childDigest: s('a'), mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 100n, platform: 'linux/amd64' } },
    }),
  });
  await h.prisma.repositoryVersion.create({ data: { repositoryId: repo.id, number: 1 } });
  repoId = repo.id;
  inV1 = `repository=${repo.id}&repositoryVersion=1`;
  await h.prisma.repositoryManifest.createMany({
    data: [d('a'), d('c')].map((manifestDigest) => ({ repositoryId: repo.id, manifestDigest, versionAdded: 1 })),
  });
  await h.prisma.repositoryTag.create({ data: { repositoryId: repo.id, name: 'latest', manifestDigest: d('c'), versionAdded: 1 } });
});
afterAll(() => h.stop());

const digests = (reply: { body: { results: { digest: string }[] } }) => reply.body.results.map((r) => r.digest);

describe('content', () => {
  it('lists manifests with platforms and filters by version, classification, artifact type and digest', async () => {
    const all = await h.get('/api/v1/content/manifests');
    expect(all.body.count).toBe(3);
    const byDigest = Object.fromEntries(all.body.results.map((m: { digest: string }) => [m.digest, m]));
    expect(byDigest[d('a')]).toMatchObject({ aliases: [s('a')], platforms: ['linux/amd64'], size: 100, classification: 'image' });
    expect(byDigest[d('c')].platforms).toEqual(['linux/amd64']);
    expect(byDigest[d('b')]).toMatchObject({ subject: s('a'), aliases: [], platforms: [] });
    expect(digests(await h.get(`/api/v1/content/manifests?${inV1}`))).toEqual([d('a'), d('c')]);
    expect(digests(await h.get('/api/v1/content/manifests?classification=cosign-signature'))).toEqual([d('b')]);
    expect(digests(await h.get('/api/v1/content/manifests?artifactType=application/vnd.dev.cosign.artifact.sig.v1%2Bjson'))).toEqual([d('b')]);
    expect((await h.get(`/api/v1/content/manifests?digest=${d('c')}`)).body.count).toBe(1);
    expect((await h.get('/api/v1/content/manifests?digest=md5:x')).status).toBe(400);
    expect(digests(await h.get(`/api/v1/content/manifests?repository=${repoId}&repositoryVersion=0`))).toEqual([]);
    expect(digests(await h.get(`/api/v1/content/manifests?repository=${repoId}`))).toEqual([d('a'), d('c')]);
    expect((await h.get(`/api/v1/content/manifests/${d('a')}`)).body.digest).toBe(d('a'));
    expect((await h.get(`/api/v1/content/manifests/${s('a')}`)).body).toMatchObject({ digest: d('a'), aliases: [s('a')] });
    expect(digests(await h.get(`/api/v1/content/manifests?digest=${s('a')}`))).toEqual([d('a')]);
    expect((await h.get(`/api/v1/content/manifests/${s('9')}`)).status).toBe(404);
    expect((await h.get(`/api/v1/content/manifests/${d('9')}`)).status).toBe(404);
  });

  it('lists referrers of a digest, whichever of its digests they name', async () => {
    expect(digests(await h.get(`/api/v1/content/manifests/${d('a')}/referrers`))).toEqual([d('b')]);
    expect(digests(await h.get(`/api/v1/content/manifests/${s('a')}/referrers`))).toEqual([d('b')]);
    expect((await h.get(`/api/v1/content/manifests/${d('a')}/referrers?${inV1}`)).body.count).toBe(0);
  });

  it('lists blobs and tags, per version too', async () => {
    expect((await h.get('/api/v1/content/blobs')).body.count).toBe(2);
    expect(digests(await h.get(`/api/v1/content/blobs?${inV1}`))).toEqual([d('1')]);
    const tags = await h.get(`/api/v1/content/tags?${inV1}`);
    expect(tags.body.results).toEqual([expect.objectContaining({ name: 'latest', manifest: d('c'), versionAdded: 1, versionRemoved: null })]);
    expect((await h.get('/api/v1/content/tags?name=nope')).body.count).toBe(0);
  });

  it('names a version by repository and number, and refuses a number alone or one that was never written', async () => {
    for (const list of ['manifests', 'blobs', 'tags', `manifests/${d('a')}/referrers`]) {
      const alone = await h.get(`/api/v1/content/${list}?repositoryVersion=1`);
      expect(alone.status, list).toBe(400);
      expect(alone.body.error).toMatchObject({
        code: 'VALIDATION_FAILED',
        details: [{ path: 'query.repositoryVersion', message: expect.stringContaining('give repository too') }],
      });
      const unknown = await h.get(`/api/v1/content/${list}?repository=${repoId}&repositoryVersion=7`);
      expect(unknown.status, list).toBe(400);
      expect(unknown.body.error).toMatchObject({
        code: 'INVALID_REFERENCE',
        details: [{ path: 'query.repositoryVersion', message: expect.stringContaining('has no version 7') }],
      });
      const noRepo = await h.get(`/api/v1/content/${list}?repository=00000000-0000-4000-8000-000000000000&repositoryVersion=1`);
      expect(noRepo.body.error).toMatchObject({ code: 'INVALID_REFERENCE', details: [{ path: 'query.repository' }] });
      expect((await h.get(`/api/v1/content/${list}?repository=${repoId}&repositoryVersion=v1`)).status, list).toBe(400);
    }
  });
});

describe('media-type policy', () => {
  it('starts at the defaults and a PUT is what the next sync reads', async () => {
    expect((await h.get('/api/v1/settings/media-types')).body).toEqual({ artifacts: true, allow: [], deny: [], updatedAt: null });
    const put = await h.put('/api/v1/settings/media-types', { artifacts: false, deny: ['application/vnd.cncf.helm.*'] });
    expect(put.body).toMatchObject({ artifacts: false, allow: [], deny: ['application/vnd.cncf.helm.*'] });
    expect((await loadPolicy(h.prisma)).policy).toEqual({ artifacts: false, allow: [], deny: ['application/vnd.cncf.helm.*'] });
    const bad = await h.put('/api/v1/settings/media-types', { artifacts: 'no', allow: [''], extra: 1 });
    expect(bad.body.error.details.map((x: { path: string }) => x.path).sort()).toEqual(['body.allow.0', 'body.artifacts', 'body.extra']);
  });
});
