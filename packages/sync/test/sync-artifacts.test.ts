import { versionManifests } from '@cistern/db';
import { json, pushBlob, pushManifest, startDistribution, type Distribution } from '@cistern/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SyncHarness } from './harness.ts';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const EMPTY = 'application/vnd.oci.empty.v1+json';

/** The artifact kinds of the oci-notes table, as their tools push them. `config: EMPTY` means an ORAS-style empty config with `artifactType`. */
const KINDS: { tag: string; config: string; artifactType?: string; layer: string; classification: string }[] = [
  { tag: 'helm', config: 'application/vnd.cncf.helm.config.v1+json', layer: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip', classification: 'helm' },
  { tag: 'sif', config: 'application/vnd.sylabs.sif.config.v1+json', layer: 'application/vnd.sylabs.sif.layer.v1.sif', classification: 'sif' },
  { tag: 'cosign-sig', config: OCI_CONFIG, layer: 'application/vnd.dev.cosign.simplesigning.v1+json', classification: 'cosign-signature' },
  { tag: 'cosign-att', config: OCI_CONFIG, layer: 'application/vnd.dsse.envelope.v1+json', classification: 'cosign-attestation' },
  { tag: 'cosign-sbom', config: OCI_CONFIG, layer: 'text/spdx+json', classification: 'cosign-sbom' },
  {
    tag: 'sigstore',
    config: EMPTY,
    artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    layer: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    classification: 'sigstore-bundle',
  },
  { tag: 'spdx', config: EMPTY, artifactType: 'application/spdx+json', layer: 'application/spdx+json', classification: 'sbom' },
  { tag: 'cyclonedx', config: EMPTY, artifactType: 'application/vnd.cyclonedx+json', layer: 'application/vnd.cyclonedx+json', classification: 'sbom' },
  { tag: 'in-toto', config: EMPTY, artifactType: 'application/vnd.in-toto+json', layer: 'application/vnd.in-toto+json', classification: 'attestation' },
  { tag: 'notation', config: 'application/vnd.cncf.notary.signature', layer: 'application/jose+json', classification: 'notation-signature' },
  { tag: 'wasm', config: 'application/vnd.wasm.config.v1+json', layer: 'application/vnd.wasm.content.layer.v1+wasm', classification: 'wasm' },
  {
    tag: 'opa',
    config: 'application/vnd.cncf.openpolicyagent.config.v1+json',
    layer: 'application/vnd.cncf.openpolicyagent.policy.layer.v1+rego',
    classification: 'policy',
  },
  { tag: 'flux', config: 'application/vnd.cncf.flux.config.v1+json', layer: 'application/vnd.cncf.flux.content.v1.tar+gzip', classification: 'artifact' },
  {
    tag: 'oras',
    config: EMPTY,
    artifactType: 'application/vnd.unknown.artifact.v1',
    layer: 'application/vnd.oci.image.layer.v1.tar',
    classification: 'artifact',
  },
  {
    tag: 'trivy-db',
    config: 'application/vnd.aquasec.trivy.config.v1+json',
    layer: 'application/vnd.aquasec.trivy.db.layer.v1.tar+gzip',
    classification: 'artifact',
  },
];

const h = new SyncHarness();
let upstream: Distribution;
beforeAll(async () => {
  await h.start();
  upstream = await startDistribution();
});
afterAll(async () => {
  await upstream.stop();
  await h.stop();
});

describe('every well-known artifact kind', () => {
  it('syncs byte-exact from Distribution, classified, with every blob stored', async () => {
    const repo = 'artifacts/all';
    const pushed = new Map<string, { digest: string; bytes: Buffer; blobs: string[] }>();
    for (const kind of KINDS) {
      const configBytes = kind.config === EMPTY ? Buffer.from('{}') : json({ kind: kind.tag });
      const layerBytes = Buffer.from(`${kind.tag} content`);
      const configDigest = await pushBlob(upstream, repo, configBytes);
      const layerDigest = await pushBlob(upstream, repo, layerBytes);
      const bytes = json({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        ...(kind.artifactType ? { artifactType: kind.artifactType } : {}),
        config: { mediaType: kind.config, digest: configDigest, size: configBytes.length, ...(kind.config === EMPTY ? { data: 'e30=' } : {}) },
        layers: [{ mediaType: kind.layer, digest: layerDigest, size: layerBytes.length }],
      });
      const digest = await pushManifest(upstream, repo, kind.tag, bytes, OCI_MANIFEST);
      pushed.set(kind.tag, { digest, bytes, blobs: [configDigest, layerDigest] });
    }
    const remote = await h.remote({ url: upstream.url, upstreamName: repo });
    const repository = await h.repository();
    const { progress } = await h.sync(remote, repository);
    expect(progress.done('sync.manifests.refused')).toBe(0);
    expect(progress.done('sync.manifests.failed')).toBe(0);
    const manifests = await versionManifests(h.db.prisma, repository.id, 1);
    for (const kind of KINDS) {
      const { digest, bytes, blobs } = pushed.get(kind.tag) as { digest: string; bytes: Buffer; blobs: string[] };
      expect(manifests.has(digest), kind.tag).toBe(true);
      const stored = await h.db.prisma.manifest.findUniqueOrThrow({ where: { digest } });
      expect(Buffer.from(stored.raw).equals(bytes), kind.tag).toBe(true);
      expect(stored.classification, kind.tag).toBe(kind.classification);
      expect(stored.artifactType, kind.tag).toBe(kind.artifactType ?? kind.config);
      for (const blob of blobs) expect(await h.storage.exists(blob), `${kind.tag} ${blob}`).toBe(true);
    }
  });
});
