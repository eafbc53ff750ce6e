import { versionManifests, versionTags } from '@cistern/db';
import { DEFAULT_POLICY } from '@cistern/oci';
import { json, sha256, startSyntheticUpstream, type SyntheticUpstream } from '@cistern/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Report } from '../src/sync-progress.ts';
import { SyncHarness } from './harness.ts';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const h = new SyncHarness();
let upstream: SyntheticUpstream;

beforeAll(async () => {
  await h.start();
  upstream = await startSyntheticUpstream({ referrersApi: true });
});
afterAll(async () => {
  await upstream.stop();
  await h.stop();
});

/** An OCI image of one config and one layer served by the synthetic upstream. */
function image(repo: string, tag: string | undefined, extra: Record<string, unknown> = {}, layerType = 'application/vnd.oci.image.layer.v1.tar+gzip') {
  const config = json({ architecture: 'amd64', os: 'linux', tag });
  const layer = Buffer.from(`layer of ${tag ?? 'untagged'} ${Math.random()}`);
  const bytes = json({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: upstream.addBlob(repo, config), size: config.length },
    layers: [{ mediaType: layerType, digest: upstream.addBlob(repo, layer), size: layer.length }],
    ...extra,
  });
  const digest = upstream.addManifest(repo, bytes, OCI_MANIFEST, tag ? [tag] : []);
  return { digest, bytes, descriptor: { mediaType: OCI_MANIFEST, digest, size: bytes.length } };
}

describe('sync from a synthetic upstream', () => {
  it('takes referrers from the Referrers API', async () => {
    const repo = 'api/referred';
    const subject = image(repo, 'v1');
    const sbom = image(repo, undefined, { artifactType: 'application/spdx+json', subject: subject.descriptor }, 'application/spdx+json');
    const attestation = image(repo, undefined, { artifactType: 'application/vnd.in-toto+json', subject: subject.descriptor }, 'application/vnd.in-toto+json');
    const signatureOnSbom = image(repo, undefined, { artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json', subject: sbom.descriptor });
    const remote = await h.remote({ url: upstream.url, upstreamName: repo });
    const repository = await h.repository();
    const { progress } = await h.sync(remote, repository);
    expect(await versionManifests(h.db.prisma, repository.id, 1)).toEqual(new Set([subject.digest, sbom.digest, attestation.digest, signatureOnSbom.digest]));
    expect(progress.done(Report.referrers)).toBe(3);
    expect(upstream.requests.some((r) => r.url.includes(`/manifests/sha256-`))).toBe(false);
  });

  it('skips what it cannot or may not take, names why, and completes', async () => {
    const repo = 'api/mixed';
    const good = image(repo, 'good');
    upstream.addManifest(
      repo,
      json({ schemaVersion: 2, mediaType: 'application/vnd.example.unknown.manifest.v1+json', stuff: [] }),
      'application/vnd.example.unknown.manifest.v1+json',
      ['unknown-type'],
    );
    upstream.addManifest(
      repo,
      Buffer.from('{"schemaVersion":2,"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{},"layers":[]}'),
      OCI_MANIFEST,
      ['duplicate-keys'],
    );
    image(repo, 'helm-chart', {}, 'application/vnd.cncf.helm.chart.content.v1.tar+gzip');
    const remote = await h.remote({ url: upstream.url, upstreamName: repo });
    const repository = await h.repository();
    const { result, progress } = await h.sync(remote, repository, { mediaTypePolicy: { ...DEFAULT_POLICY, deny: ['application/vnd.cncf.helm.*'] } });
    expect(result.version).toBe(1);
    expect([...(await versionTags(h.db.prisma, repository.id, 1)).keys()]).toEqual(['good']);
    expect(await versionManifests(h.db.prisma, repository.id, 1)).toEqual(new Set([good.digest]));
    const skipped = progress.reports.get(Report.manifestsRefused);
    expect(skipped?.done).toBe(3);
    const reasons = Object.fromEntries((skipped?.items ?? []).map((i) => [i.name, i.reason]));
    expect(reasons['unknown-type']).toMatch(/UNSUPPORTED_MEDIA_TYPE|MANIFEST_INVALID/);
    expect(reasons['duplicate-keys']).toMatch(/^DUPLICATE_KEY/);
    expect(reasons['helm-chart']).toMatch(/rejected by the media-type policy: .*helm.* matches deny pattern application\/vnd\.cncf\.helm\.\*/);
  });

  it('skips a cosign tag that vanished between listing and HEAD', async () => {
    const repo = 'api/vanished';
    const signed = image(repo, 'v1');
    upstream.addTags(repo, [`sha256-${signed.digest.slice('sha256:'.length)}.sig`]);
    const remote = await h.remote({ url: upstream.url, upstreamName: repo });
    const repository = await h.repository();
    const { result, progress } = await h.sync(remote, repository);
    expect(result.version).toBe(1);
    expect(await versionManifests(h.db.prisma, repository.id, 1)).toEqual(new Set([signed.digest]));
    expect(progress.reports.get(Report.manifestsRefused)?.items?.[0]?.reason).toMatch(/^MANIFEST_UNKNOWN/);
  });

  it('accepts schema 1 and the old OCI artifact manifest as legacy content', async () => {
    const repo = 'api/legacy';
    const blob = Buffer.from('schema 1 layer');
    const blobDigest = upstream.addBlob(repo, blob);
    const schema1 = json({
      schemaVersion: 1,
      name: repo,
      tag: 'old',
      architecture: 'amd64',
      fsLayers: [{ blobSum: blobDigest }],
      history: [{ v1Compatibility: '{"id":"a"}' }],
    });
    const schema1Digest = upstream.addManifest(repo, schema1, 'application/vnd.docker.distribution.manifest.v1+json', ['old']);
    const artifactBlob = Buffer.from('notation signature');
    const artifact = json({
      mediaType: 'application/vnd.oci.artifact.manifest.v1+json',
      artifactType: 'application/vnd.cncf.notary.signature',
      blobs: [{ mediaType: 'application/jose+json', digest: upstream.addBlob(repo, artifactBlob), size: artifactBlob.length }],
    });
    const artifactDigest = upstream.addManifest(repo, artifact, 'application/vnd.oci.artifact.manifest.v1+json', ['notation']);
    const remote = await h.remote({ url: upstream.url, upstreamName: repo });
    const repository = await h.repository();
    await h.sync(remote, repository);
    expect(await versionManifests(h.db.prisma, repository.id, 1)).toEqual(new Set([schema1Digest, artifactDigest]));
    expect((await h.db.prisma.manifest.findUniqueOrThrow({ where: { digest: schema1Digest } })).classification).toBe('legacy-schema1');
    expect((await h.db.prisma.blob.findUniqueOrThrow({ where: { digest: blobDigest } })).size).toBe(BigInt(blob.length));
    expect(await h.storage.exists(blobDigest)).toBe(true);
  });

  it.each([
    ['v1+json', 'application/vnd.docker.distribution.manifest.v1+json'],
    ['application/json', 'application/json'],
    ['prettyjws', 'application/vnd.docker.distribution.manifest.v1+prettyjws'],
  ])('digests signed schema 1 served as %s by its JWS payload, as Distribution does', async (label, contentType) => {
    const repo = `legacy/signed-${label.replace(/\W/g, '')}`;
    const blob = Buffer.from(`signed schema 1 layer ${label}`);
    const unsigned = JSON.stringify(
      {
        schemaVersion: 1,
        name: repo,
        tag: 'old',
        architecture: 'amd64',
        fsLayers: [{ blobSum: upstream.addBlob(repo, blob) }],
        history: [{ v1Compatibility: '{"id":"a"}' }],
      },
      null,
      3,
    );
    // libtrust splices the signatures in before the closing brace; the payload is the document without them.
    const at = unsigned.lastIndexOf('\n}');
    const protectedHeader = Buffer.from(JSON.stringify({ formatLength: at, formatTail: Buffer.from(unsigned.slice(at)).toString('base64url') })).toString(
      'base64url',
    );
    const signed = Buffer.from(
      `${unsigned.slice(0, at)},\n   "signatures": [{"header": {"alg": "ES256"}, "signature": "c2ln", "protected": "${protectedHeader}"}]${unsigned.slice(at)}`,
    );
    const digest = sha256(Buffer.from(unsigned));
    upstream.intercept((req, res) => {
      if (!req.url?.startsWith(`/v2/${repo}/manifests/`)) return false;
      res.writeHead(200, { 'content-type': contentType, 'content-length': signed.length, 'docker-content-digest': digest });
      res.end(req.method === 'HEAD' ? undefined : signed);
      return true;
    });
    upstream.addTags(repo, ['old']);
    try {
      const remote = await h.remote({ url: upstream.url, upstreamName: repo });
      const repository = await h.repository();
      const { result } = await h.sync(remote, repository);
      expect(result.version).toBe(1);
      expect(Object.fromEntries(await versionTags(h.db.prisma, repository.id, 1))).toEqual({ old: digest });
      expect(Buffer.from((await h.db.prisma.manifest.findUniqueOrThrow({ where: { digest } })).raw).equals(signed)).toBe(true);
    } finally {
      upstream.intercept(undefined);
    }
  });

  it('warns NOTHING_SELECTED when the filters select none of the listed tags', async () => {
    const repo = 'api/typo';
    image(repo, '1.0');
    const remote = await h.remote({ url: upstream.url, upstreamName: repo, includes: ['9.*'] });
    const { result } = await h.sync(remote, await h.repository());
    expect(result.version).toBeNull();
    expect(result.warnings.map((w) => w.code)).toEqual(['NOTHING_SELECTED']);
  });

  it('records foreign layers and never downloads them', async () => {
    const repo = 'api/windows';
    const config = json({ architecture: 'amd64', os: 'windows' });
    const foreign = {
      mediaType: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
      digest: `sha256:${'a'.repeat(64)}`,
      size: 1024,
      urls: ['https://example.invalid/layer'],
    };
    const bytes = json({
      schemaVersion: 2,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: upstream.addBlob(repo, config), size: config.length },
      layers: [foreign],
    });
    upstream.addManifest(repo, bytes, 'application/vnd.docker.distribution.manifest.v2+json', ['ltsc']);
    const remote = await h.remote({ url: upstream.url, upstreamName: repo });
    const repository = await h.repository();
    await h.sync(remote, repository);
    expect(await h.storage.exists(foreign.digest)).toBe(false);
    expect(await h.db.prisma.remoteArtifact.findMany({ where: { blobDigest: foreign.digest }, select: { urls: true } })).toEqual([{ urls: foreign.urls }]);
    expect(upstream.requests.some((r) => r.url.includes(foreign.digest))).toBe(false);
  });
});

/** An image whose layer and own manifest are served by their sha512 digests; returns both digests of the manifest. */
function sha512Image(repo: string, extra: Record<string, unknown> = {}) {
  const config = json({ architecture: 'amd64', os: 'linux', nonce: Math.random() });
  const layer = Buffer.from(`a layer named by sha512 ${Math.random()}`);
  const layerDigest = upstream.addBlob(repo, layer, 'sha512');
  const bytes = json({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: upstream.addBlob(repo, config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigest, size: layer.length }],
    ...extra,
  });
  const digest = upstream.addManifest(repo, bytes, OCI_MANIFEST, [], 'sha512');
  return { digest, sha256: sha256(bytes), layerDigest, layer, descriptor: { mediaType: OCI_MANIFEST, digest, size: bytes.length } };
}

function index(repo: string, tag: string, children: { mediaType: string; digest: string; size: number }[]) {
  const bytes = json({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: children.map((c) => ({ ...c, platform: { architecture: 'amd64', os: 'linux' } })) });
  return upstream.addManifest(repo, bytes, OCI_INDEX, [tag]);
}

/** The upstream serves other bytes (a manifest whose config is `config`) under `digest`, and claims `digest` in its header. */
function serveForged(digest: string, config: { mediaType: string; digest: string; size: number }) {
  upstream.intercept((req, res) => {
    if (!req.url?.endsWith(`/manifests/${digest}`)) return false;
    const bytes = json({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [] });
    res.writeHead(200, { 'content-type': OCI_MANIFEST, 'content-length': bytes.length, 'docker-content-digest': digest });
    res.end(req.method === 'HEAD' ? undefined : bytes);
    return true;
  });
}

describe('digests in sha512', () => {
  it('syncs an index whose child, layer and referrer subject are named by sha512', async () => {
    const repo = 'alg/index';
    const child = sha512Image(repo);
    const sbom = sha512Image(repo, { artifactType: 'application/spdx+json', subject: child.descriptor });
    const indexDigest = index(repo, 'v1', [child.descriptor]);
    const remote = await h.remote({ url: upstream.url, upstreamName: repo });
    const repository = await h.repository();

    const { result, progress } = await h.sync(remote, repository);

    expect(result.version).toBe(1);
    // Membership is by the canonical sha256; the sha512 names are aliases of those rows.
    expect(await versionManifests(h.db.prisma, repository.id, 1)).toEqual(new Set([indexDigest, child.sha256, sbom.sha256]));
    expect(await versionTags(h.db.prisma, repository.id, 1)).toEqual(new Map([['v1', indexDigest]]));
    expect(await h.db.prisma.manifestAlias.findMany({ where: { manifestDigest: { in: [child.sha256, sbom.sha256] } }, orderBy: { digest: 'asc' } })).toEqual(
      [
        { digest: child.digest, manifestDigest: child.sha256 },
        { digest: sbom.digest, manifestDigest: sbom.sha256 },
      ].sort((a, b) => (a.digest < b.digest ? -1 : 1)),
    );
    expect(progress.done(Report.referrers)).toBe(1);
    // The layer is verified with sha512 and stored once: its sha256 name is the same file.
    const blob = await h.storage.open(child.layerDigest);
    expect(blob.size).toBe(child.layer.length);
    await blob.discard();
    expect(await h.storage.exists(sha256(child.layer))).toBe(true);
    expect((await h.db.prisma.blob.findUniqueOrThrow({ where: { digest: child.layerDigest } })).stored).toBe(true);

    // A resync finds everything stored under the names it is referenced by: no manifest GETs.
    const before = upstream.requests.length;
    const again = await h.sync(remote, repository);
    expect(again.result.version).toBeNull();
    expect(upstream.requests.slice(before).filter((r) => r.method === 'GET' && r.url.includes('/manifests/'))).toEqual([]);
  });

  it('pulls exactly the manifest an includes entry names by sha512', async () => {
    const repo = 'alg/includes';
    const wanted = sha512Image(repo);
    const other = sha512Image(repo);
    index(repo, 'v1', [wanted.descriptor, other.descriptor]);
    const remote = await h.remote({ url: upstream.url, upstreamName: repo, includes: [wanted.digest] });
    const repository = await h.repository();

    const { result } = await h.sync(remote, repository);

    expect(result.version).toBe(1);
    expect(await versionManifests(h.db.prisma, repository.id, 1)).toEqual(new Set([wanted.sha256]));
    expect(await versionTags(h.db.prisma, repository.id, 1)).toEqual(new Map());
  });

  it('names a child whose bytes do not hash to its sha512 as failed, and with it its index', async () => {
    const repo = 'alg/mismatch';
    const good = sha512Image(repo);
    const liar = sha512Image(repo);
    const forged = { ...liar.descriptor, digest: `sha512:${'0'.repeat(128)}` };
    const indexDigest = index(repo, 'v1', [good.descriptor, forged]);
    serveForged(forged.digest, good.descriptor);
    const remote = await h.remote({ url: upstream.url, upstreamName: repo });
    const repository = await h.repository();

    try {
      const { result, progress } = await h.sync(remote, repository);
      // An index with a child that could not be brought in is not mirrored half: v1 would keep its previous target.
      expect(result.version).toBeNull();
      expect(result.warnings.map((w) => w.code)).toEqual(['NOTHING_MIRRORED', 'CONTENT_FAILED']);
      const failed = progress.reports.get(Report.manifestsFailed)?.items ?? [];
      expect(failed).toEqual([
        { name: `v1 > ${forged.digest}`, reason: expect.stringMatching(/^DIGEST_MISMATCH/) },
        { name: 'v1', reason: `its child ${forged.digest} failed` },
      ]);
      expect(indexDigest).toMatch(/^sha256:/);
      expect(await h.db.prisma.manifestAlias.count({ where: { digest: forged.digest } })).toBe(0);
    } finally {
      upstream.intercept(undefined);
    }
  });

  it('keeps the sha512-named child of an index whose tag keeps its previous target in a mirror sync', async () => {
    const repo = 'alg/keep';
    const child = sha512Image(repo);
    const first = index(repo, 'v1', [child.descriptor]);
    const remote = await h.remote({ url: upstream.url, upstreamName: repo });
    const repository = await h.repository();
    expect((await h.sync(remote, repository, { mirror: true })).result.version).toBe(1);

    // Upstream moves v1 to an index whose only child never verifies: v1 keeps its index, and the index its child.
    const forged = { ...child.descriptor, digest: `sha512:${'0'.repeat(128)}` };
    index(repo, 'v1', [forged]);
    serveForged(forged.digest, child.descriptor);
    try {
      const { result } = await h.sync(remote, repository, { mirror: true });
      expect(result.version).toBeNull();
      expect(result.warnings.map((w) => w.code)).toEqual(['NOTHING_MIRRORED', 'CONTENT_FAILED']);
      expect(Object.fromEntries(await versionTags(h.db.prisma, repository.id, 1))).toEqual({ v1: first });
      expect(await versionManifests(h.db.prisma, repository.id, 1)).toEqual(new Set([first, child.sha256]));
    } finally {
      upstream.intercept(undefined);
    }
  });
});
