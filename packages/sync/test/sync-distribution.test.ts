import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { versionManifests, versionTags } from '@cistern/db';
import {
  buildAndPush,
  pushBlob,
  pushImage,
  pushIndex,
  pushManifest,
  pushMultiArch,
  json,
  startDistribution,
  startFaultProxy,
  type Distribution,
  type FaultProxy,
} from '@cistern/testkit';
import { MediaTypePolicy } from '@cistern/oci';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Report } from '../src/sync-progress.ts';
import { SyncHarness } from './harness.ts';

const h = new SyncHarness();
let upstream: Distribution;
let proxy: FaultProxy;

beforeAll(async () => {
  await h.start();
  upstream = await startDistribution();
  proxy = await startFaultProxy(upstream.url);
});
afterAll(async () => {
  await proxy.stop();
  await upstream.stop();
  await h.stop();
});

async function upstreamManifest(repo: string, digest: string): Promise<Buffer> {
  const res = await fetch(`${upstream.url}/v2/${repo}/manifests/${digest}`, {
    headers: {
      accept:
        'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json',
    },
  });
  return Buffer.from(await res.arrayBuffer());
}

async function storedBlobDigest(digest: string): Promise<string> {
  const hash = createHash('sha256');
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done();
    },
  });
  await (await h.storage.open(digest)).writeTo(sink);
  return `sha256:${hash.digest('hex')}`;
}

describe('sync from CNCF Distribution', () => {
  it('mirrors images, a multi-arch index, Docker v2s2 and a manifest list byte for byte', async () => {
    const repo = 'lib/mixed';
    const oci = await pushImage(upstream, repo, 'oci');
    const docker = await pushImage(upstream, repo, 'docker', { format: 'docker' });
    const multi = await pushMultiArch(upstream, repo, 'multi');
    const list = await pushMultiArch(upstream, repo, 'list', ['linux/amd64', 'linux/arm/v7'], 'docker');
    await buildAndPush(upstream, repo, 'skopeo-v2s2', { format: 'v2s2' });

    const remote = await h.remote({ url: proxy.url, upstreamName: repo });
    const repository = await h.repository();
    const { result, progress } = await h.sync(remote, repository);
    expect(result.version).toBe(1);

    const tags = await versionTags(h.db.prisma, repository.id, 1);
    expect([...tags.keys()].sort()).toEqual(['docker', 'list', 'multi', 'oci', 'skopeo-v2s2']);
    expect(tags.get('oci')).toBe(oci.digest);
    expect(tags.get('multi')).toBe(multi.index.digest);
    const manifests = await versionManifests(h.db.prisma, repository.id, 1);
    for (const d of [
      oci.digest,
      docker.digest,
      multi.index.digest,
      ...multi.images.map((i) => i.digest),
      list.index.digest,
      ...list.images.map((i) => i.digest),
    ]) {
      expect(manifests.has(d), d).toBe(true);
    }
    for (const digest of manifests) {
      const stored = await h.db.prisma.manifest.findUniqueOrThrow({ where: { digest } });
      expect(Buffer.from(stored.raw).equals(await upstreamManifest(repo, digest)), digest).toBe(true);
      for (const link of await h.db.prisma.manifestBlob.findMany({ where: { manifestDigest: digest } })) {
        expect(await storedBlobDigest(link.blobDigest)).toBe(link.blobDigest);
      }
    }
    expect(progress.done(Report.manifestsNew)).toBe(manifests.size);
    expect(progress.done(Report.manifestsRefused)).toBe(0);
    expect(progress.done(Report.manifestsFailed)).toBe(0);
  });

  it('resyncs with zero manifest GETs and writes no version when nothing changed', async () => {
    const repo = 'lib/noop';
    await pushImage(upstream, repo, 'a');
    await pushMultiArch(upstream, repo, 'b');
    const remote = await h.remote({ url: proxy.url, upstreamName: repo });
    const repository = await h.repository();
    await h.sync(remote, repository);
    proxy.reset();
    const { result, progress } = await h.sync(remote, repository);
    expect(result.version).toBeNull();
    expect(proxy.count('GET', 'manifest')).toBe(0);
    expect(proxy.count('GET', 'blob')).toBe(0);
    expect(proxy.count('HEAD', 'manifest')).toBe(2);
    expect(progress.reports.get(Report.version)?.message).toBe('Nothing changed, so no version was written.');
  });

  it('filters tags by globs and pulls digests named in includes exactly', async () => {
    const repo = 'lib/filtered';
    await pushImage(upstream, repo, 'v1.0');
    await pushImage(upstream, repo, 'v1.1-rc');
    await pushImage(upstream, repo, 'v2.0');
    await pushImage(upstream, repo, 'edge');
    const untagged = await pushImage(upstream, repo, undefined);
    const remote = await h.remote({ url: proxy.url, upstreamName: repo, includes: ['v1.*', 'v?.0', untagged.digest], excludes: ['*-rc'] });
    const repository = await h.repository();
    await h.sync(remote, repository);
    expect([...(await versionTags(h.db.prisma, repository.id, 1)).keys()].sort()).toEqual(['v1.0', 'v2.0']);
    expect((await versionManifests(h.db.prisma, repository.id, 1)).has(untagged.digest)).toBe(true);
  });

  it('moves tags, and mirror drops what upstream no longer has while additive keeps it', async () => {
    const repo = 'lib/moving';
    const first = await pushImage(upstream, repo, 'latest');
    const gone = await pushImage(upstream, repo, 'gone');
    const remote = await h.remote({ url: proxy.url, upstreamName: repo });
    const additive = await h.repository();
    const mirror = await h.repository();
    await h.sync(remote, additive);
    await h.sync(remote, mirror, { mirror: true });

    const second = await pushImage(upstream, repo, 'latest');
    await fetch(`${upstream.url}/v2/${repo}/manifests/${gone.digest}`, { method: 'DELETE' });
    expect((await h.sync(remote, additive)).result.version).toBe(2);
    expect((await h.sync(remote, mirror, { mirror: true })).result.version).toBe(2);

    expect(await versionTags(h.db.prisma, additive.id, 2)).toEqual(
      new Map([
        ['latest', second.digest],
        ['gone', gone.digest],
      ]),
    );
    expect((await versionManifests(h.db.prisma, additive.id, 2)).has(first.digest)).toBe(true);
    expect(await versionTags(h.db.prisma, mirror.id, 2)).toEqual(new Map([['latest', second.digest]]));
    expect(await versionManifests(h.db.prisma, mirror.id, 2)).toEqual(new Set([second.digest]));
    expect((await versionTags(h.db.prisma, mirror.id, 1)).get('latest')).toBe(first.digest);
  });

  it('keeps only the platforms asked for, with the index byte-exact', async () => {
    const repo = 'lib/platforms';
    const { index, images } = await pushMultiArch(upstream, repo, 'latest', ['linux/amd64', 'linux/arm64', 'linux/s390x']);
    const remote = await h.remote({ url: proxy.url, upstreamName: repo, platforms: ['linux/arm64'] });
    const repository = await h.repository();
    await h.sync(remote, repository);
    const manifests = await versionManifests(h.db.prisma, repository.id, 1);
    expect(manifests).toEqual(new Set([index.digest, images[1]?.digest]));
    const stored = await h.db.prisma.manifest.findUniqueOrThrow({ where: { digest: index.digest } });
    expect(Buffer.from(stored.raw).equals(index.bytes)).toBe(true);
    expect(await h.db.prisma.manifest.count({ where: { digest: images[2]?.digest } })).toBe(0);
  });

  it('records layers for on-demand fetching and downloads only config blobs', async () => {
    const repo = 'lib/ondemand';
    const image = await pushImage(upstream, repo, 'v1', { layers: [Buffer.alloc(4096, 7)] });
    const remote = await h.remote({ url: proxy.url, upstreamName: repo, policy: 'on_demand' });
    const repository = await h.repository();
    await h.sync(remote, repository);
    const [config, layer] = image.blobs as [string, string];
    expect(await h.storage.exists(config)).toBe(true);
    expect(await h.storage.exists(layer)).toBe(false);
    expect(await h.db.prisma.remoteArtifact.findMany({ where: { blobDigest: layer }, select: { remoteId: true, upstreamName: true } })).toEqual([
      { remoteId: remote.id, upstreamName: repo },
    ]);
    expect((await h.db.prisma.blob.findUniqueOrThrow({ where: { digest: layer } })).stored).toBe(false);
    // The downloaded config is recorded too: where a reclaim's later pull fetches it again.
    expect(await h.db.prisma.remoteArtifact.findMany({ where: { blobDigest: config }, select: { remoteId: true, urls: true } })).toEqual([
      { remoteId: remote.id, urls: [] },
    ]);
  });

  it('records every blob an immediate sync downloads as a remote artifact of its remote and upstream name', async () => {
    const repo = 'lib/recorded';
    const image = await pushImage(upstream, repo, 'v1', { layers: [Buffer.alloc(2048, 3), Buffer.alloc(1024, 5)] });
    const remote = await h.remote({ url: proxy.url, upstreamName: repo });
    await h.sync(remote, await h.repository());
    const recorded = await h.db.prisma.remoteArtifact.findMany({
      where: { remoteId: remote.id },
      select: { blobDigest: true, upstreamName: true, urls: true },
    });
    expect(recorded.sort((a, b) => a.blobDigest.localeCompare(b.blobDigest))).toEqual(
      [...image.blobs].sort().map((blobDigest) => ({ blobDigest, upstreamName: repo, urls: [] })),
    );
    for (const blob of image.blobs) expect(await h.storage.exists(blob)).toBe(true);
    // A second sync finds them stored and records nothing twice.
    await h.sync(remote, await h.repository());
    expect(await h.db.prisma.remoteArtifact.count({ where: { remoteId: remote.id } })).toBe(image.blobs.length);
  });

  it('syncs cosign tags outside the includes and referrers through the tag schema', async () => {
    const repo = 'lib/signed';
    const image = await pushImage(upstream, repo, 'v1');
    const hex = image.digest.slice('sha256:'.length);
    const signature = await pushImage(upstream, repo, `sha256-${hex}.sig`, {
      annotations: {},
      layers: [Buffer.from('{"critical":{}}')],
    });
    const sbom = await pushImage(upstream, repo, undefined, { artifactType: 'application/spdx+json', subject: image.descriptor });
    await pushIndex(upstream, repo, `sha256-${hex}`, [{ ...sbom.descriptor, artifactType: 'application/spdx+json' }]);
    const sbomSignature = await pushImage(upstream, repo, `sha256-${sbom.digest.slice(7)}.sig`);

    const remote = await h.remote({ url: proxy.url, upstreamName: repo, includes: ['v1'] });
    const repository = await h.repository();
    const { progress } = await h.sync(remote, repository);
    const tags = await versionTags(h.db.prisma, repository.id, 1);
    expect(tags.get(`sha256-${hex}.sig`)).toBe(signature.digest);
    expect(tags.get(`sha256-${sbom.digest.slice(7)}.sig`)).toBe(sbomSignature.digest);
    expect(tags.has(`sha256-${hex}`)).toBe(false);
    const manifests = await versionManifests(h.db.prisma, repository.id, 1);
    expect(manifests).toEqual(new Set([image.digest, signature.digest, sbom.digest, sbomSignature.digest]));
    expect((await h.db.prisma.manifest.findUniqueOrThrow({ where: { digest: sbom.digest } })).subjectDigest).toBe(image.digest);
    expect(progress.done(Report.referrers)).toBe(3);

    proxy.reset();
    expect((await h.sync(remote, repository)).result.version).toBeNull();
    expect(proxy.count('GET', 'manifest')).toBe(0);

    const none = await h.remote({ url: proxy.url, upstreamName: repo, includes: ['v1'], syncSignatures: false, syncReferrers: false });
    const bare = await h.repository();
    await h.sync(none, bare);
    expect(await versionManifests(h.db.prisma, bare.id, 1)).toEqual(new Set([image.digest]));
  });

  it('refuses an index whose manifests the policy all refused, nested too, and keeps one with an accepted manifest', async () => {
    const repo = 'lib/policy';
    const image = await pushImage(upstream, repo, undefined);
    const sbom = await pushImage(upstream, repo, undefined, { artifactType: 'application/spdx+json' });
    const sboms = await pushIndex(upstream, repo, 'sboms', [sbom.descriptor]);
    await pushIndex(upstream, repo, 'nested', [sboms.descriptor]);
    const both = await pushIndex(upstream, repo, 'both', [image.descriptor, sbom.descriptor]);
    const remote = await h.remote({ url: proxy.url, upstreamName: repo });
    const repository = await h.repository();
    const { progress } = await h.sync(remote, repository, { mediaTypePolicy: MediaTypePolicy.parse({ artifacts: false }) });
    expect([...(await versionTags(h.db.prisma, repository.id, 1)).keys()]).toEqual(['both']);
    expect(await versionManifests(h.db.prisma, repository.id, 1)).toEqual(new Set([both.digest, image.digest]));
    const reasons = (progress.reports.get(Report.manifestsRefused)?.items ?? []).map((i) => i.reason);
    expect(reasons.filter((r) => r.endsWith('every manifest this index lists was refused'))).toHaveLength(2);
    expect(reasons).toHaveLength(3);
  });

  it('stores an artifact with an empty config and any layer type', async () => {
    const repo = 'lib/artifact';
    const layer = Buffer.from('chart bytes');
    const layerDigest = await pushBlob(upstream, repo, layer);
    const emptyDigest = await pushBlob(upstream, repo, Buffer.from('{}'));
    const manifest = json({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: 'application/vnd.example.thing.v1',
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: emptyDigest, size: 2, data: 'e30=' },
      layers: [{ mediaType: 'application/vnd.example.thing.layer.v1+tar', digest: layerDigest, size: layer.length }],
    });
    const digest = await pushManifest(upstream, repo, 'v1', manifest, 'application/vnd.oci.image.manifest.v1+json');
    const remote = await h.remote({ url: proxy.url, upstreamName: repo });
    const repository = await h.repository();
    await h.sync(remote, repository);
    const stored = await h.db.prisma.manifest.findUniqueOrThrow({ where: { digest } });
    expect(stored).toMatchObject({ artifactType: 'application/vnd.example.thing.v1', classification: 'artifact' });
    expect(await h.storage.exists(layerDigest)).toBe(true);
  });
});
