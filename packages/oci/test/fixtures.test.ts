import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, evaluatePolicy, MediaType, parseManifest, type Classification, type ManifestKind } from '../src/index.ts';
import { fixture } from './helpers.ts';

const IMAGE_CONFIG = MediaType.OciConfig;
const EMPTY = 'application/vnd.oci.empty.v1+json';

/** file, kind, classification, artifact type, sha256 (pinned: the bytes must never change). */
const CORPUS: [string, ManifestKind, Classification, string | undefined, string][] = [
  ['oci-image.json', 'oci-manifest', 'image', IMAGE_CONFIG, '9dd083886c67911909c936c408bbd0eddd09403899518bf5306a283dee5b8c66'],
  ['oci-image-arm64.json', 'oci-manifest', 'image', IMAGE_CONFIG, '5657e213455874adfbfef6edfcb9de9a3dbb4967ed17b5d703e86801414d5738'],
  ['no-media-type.json', 'oci-manifest', 'image', IMAGE_CONFIG, '93effbde6b9471bd7d38f9f1dc8e576e9d9181cf8d4d37fa3ae335c5e337ab0b'],
  ['unknown-fields.json', 'oci-manifest', 'image', IMAGE_CONFIG, '4c810287e29e77aee1d674d6655e94b146311311aa6848f20a108fbcf2cc403a'],
  ['helm-chart.json', 'oci-manifest', 'helm', MediaType.HelmConfig, '2c66b94b593adf9571b25b5b20a90a8d8869d3da89887abef7ae092b0b2a2b9e'],
  ['sif.json', 'oci-manifest', 'sif', MediaType.SifConfig, '78139931b8affd0d036fee10f90b26eddaccde9da465e842bde6c8309524608e'],
  ['cosign-signature.json', 'oci-manifest', 'cosign-signature', IMAGE_CONFIG, 'dae7e4445917f151437061c252299ff6069ab29151911d02bd869ef26b83bc28'],
  ['cosign-attestation.json', 'oci-manifest', 'cosign-attestation', IMAGE_CONFIG, '449f5998c4a1ce1bcdf75fbe3c1abad1be7ced06f8712b08c29bbe647c2ca600'],
  ['cosign-sbom.json', 'oci-manifest', 'cosign-sbom', IMAGE_CONFIG, 'efe79b472fba269d6e8f841f6ab39d95e60cb4b5ab620a42ccd8ff2d6d724f40'],
  ['sigstore-bundle.json', 'oci-manifest', 'sigstore-bundle', MediaType.SigstoreBundle, '621b55d4891a48822763a1df890873d8ad004bffb1cc945e9bdd82960f42f52b'],
  ['spdx-sbom.json', 'oci-manifest', 'sbom', MediaType.SpdxJson, 'bbe046a515c8f33839ecd78472e66f07499a4d97861476b23b9088f41ed755d7'],
  ['cyclonedx-sbom.json', 'oci-manifest', 'sbom', MediaType.CycloneDxJson, '87ce1210c1073a3caec7a71ea6111922232d9fb6a7f5f18f96e2741eb6551da3'],
  ['in-toto.json', 'oci-manifest', 'attestation', MediaType.InToto, '94253692ef83bccbd7e049f8e51caf0693b58d0278ceda939c36e7c9f111d947'],
  [
    'notation-signature.json',
    'oci-manifest',
    'notation-signature',
    MediaType.NotarySignature,
    '1b7a5a9fe09edfbcabbdb6ba225774ca020be4c1ed0f808dca8b0c9c59c1f522',
  ],
  ['wasm.json', 'oci-manifest', 'wasm', MediaType.WasmConfig, 'e46822a3505b6747c7a3015fce000fc96d4e449eebfd4db98008c3a7fe7279a3'],
  ['opa-policy.json', 'oci-manifest', 'policy', MediaType.OpaConfig, 'e3a5fa129bf5f096ba5a809b9efadeadc218fec462728654f44676c0b71e6db3'],
  ['flux.json', 'oci-manifest', 'artifact', MediaType.FluxConfig, 'e6cedaada6a7ea73214d94ec5b93db00368b320ffe7d8b12e853e40446432bf7'],
  ['oras-default.json', 'oci-manifest', 'artifact', MediaType.OrasUnknownArtifact, 'b8fb02723a67638e24c65ae75518362cbfd18f496e0cad8048e35fe17d7f270f'],
  ['trivy-db.json', 'oci-manifest', 'artifact', MediaType.TrivyConfig, '2c51e3214370a8f4b2286d6357d5aaa767e6c8d8c9ef1f67d3397f4d6606e8f0'],
  [
    'buildkit-cache-manifest.json',
    'oci-manifest',
    'artifact',
    MediaType.BuildKitCacheConfig,
    '2bcdd97b292926770a8c4b4562fb5b03a188238d00214cdef992688e46ae8383',
  ],
  ['buildkit-cache-index.json', 'oci-index', 'index', undefined, 'd280515e942be640d97bb49509c88cd627ef7759b5a49d01270572b0a8f19836'],
  ['buildx-index-attestations.json', 'oci-index', 'index', undefined, '15eb970a12d96004a613ed24af6c849751ba9792162f7848cd6583bf61cf3862'],
  ['buildx-attestation-manifest.json', 'oci-manifest', 'attestation', IMAGE_CONFIG, '6b741ca12cfa3199fda25b9b8eac413389278c9f12ed4bd000ef2be5d3a4b34d'],
  [
    'oci-artifact-manifest.json',
    'oci-artifact-manifest',
    'notation-signature',
    MediaType.NotarySignature,
    '4baec728229c56fab406f54a32d3428f61e021da3b5f51d77d5f819d8051d3b2',
  ],
  ['docker-v2s2-foreign-layers.json', 'docker-manifest', 'image', MediaType.DockerConfig, '52ddeb495cb3f4a459e53593868521def6730f657b8fe0ed000fffade2b0609a'],
  ['docker-manifest-list.json', 'docker-manifest-list', 'index', undefined, 'f6ffebcf6bc1f5514497e14765273291b3d3ab6adc54f26fa1b93e84b554ef88'],
  ['docker-schema1-unsigned.json', 'docker-schema1', 'legacy-schema1', undefined, '284e3d60954b9ca98410500c22478243878a717636099b5a88f2974403c10f9e'],
  // Same payload as the unsigned one: the digest is over the JWS payload, not the served bytes.
  ['docker-schema1-signed.json', 'docker-schema1-signed', 'legacy-schema1', undefined, '284e3d60954b9ca98410500c22478243878a717636099b5a88f2974403c10f9e'],
];

const sha256 = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

describe('fixture corpus', () => {
  it.each(CORPUS)('%s parses as %s, classifies as %s, keeps its digest and passes the default policy', (file, kind, classification, artifactType, hex) => {
    const bytes = fixture(file);
    const parsed = parseManifest(bytes);
    expect(parsed.kind).toBe(kind);
    expect(parsed.classification).toBe(classification);
    expect(parsed.artifactType).toBe(artifactType);
    expect(parsed.digest).toBe(`sha256:${hex}`);
    expect(parsed.bytes).toBe(bytes);
    expect(evaluatePolicy(parsed, DEFAULT_POLICY)).toEqual({ decision: 'accept' });
  });

  it('digests every non-JWS fixture over its exact bytes', () => {
    for (const [file, kind, , , hex] of CORPUS) {
      if (kind !== 'docker-schema1-signed') expect(sha256(fixture(file)), file).toBe(`sha256:${hex}`);
    }
  });

  it('takes the media type from the shape when the document declares none', () => {
    const parsed = parseManifest(fixture('no-media-type.json'));
    expect(parsed.mediaType).toBe(MediaType.OciManifest);
    expect(parsed.document.mediaType).toBeUndefined();
    expect(parsed.layers.map((layer) => layer.mediaType)).toEqual([MediaType.OciLayerZstd, MediaType.OciLayerGzip]);
  });

  it('passes unknown fields through untouched', () => {
    const parsed = parseManifest(fixture('unknown-fields.json'));
    expect(parsed.document).toMatchObject({ 'com.example.extension': { enabled: true, limits: { max: 9007199254740991 } } });
    expect(parsed.config?.['com.example.unknown-descriptor-field']).toEqual({ nested: [1, 2.5, true, null] });
    expect(parsed.layers[0]?.annotations).toEqual({ 'org.opencontainers.image.title': 'rootfs.tar.gz', 'com.example.ünïcode': 'värde ✓' });
    expect(parsed.annotations?.['org.opencontainers.image.authors']).toBe('Cistern <cistern@example.org>');
  });

  it('exposes config, layers and subject of a referrer without re-walking the document', () => {
    const parsed = parseManifest(fixture('sigstore-bundle.json'));
    expect(parsed.config).toMatchObject({ mediaType: EMPTY, size: 2, data: 'e30=' });
    expect(parsed.layers).toHaveLength(1);
    expect(parsed.subject).toEqual({ mediaType: MediaType.OciManifest, digest: `sha256:${CORPUS[0]?.[4]}`, size: 662 });
  });

  it('lists index children with platforms and BuildX attestation annotations', () => {
    const parsed = parseManifest(fixture('buildx-index-attestations.json'));
    expect(parsed.children.map((child) => child.platform)).toEqual([
      { architecture: 'amd64', os: 'linux' },
      { architecture: 'arm64', os: 'linux', variant: 'v8' },
      { architecture: 'unknown', os: 'unknown' },
      { architecture: 'unknown', os: 'unknown' },
    ]);
    expect(parsed.children[2]?.annotations).toEqual({
      'vnd.docker.reference.digest': `sha256:${CORPUS[0]?.[4]}`,
      'vnd.docker.reference.type': 'attestation-manifest',
    });
  });

  it('accepts an index whose entries are blobs (BuildKit cache)', () => {
    const parsed = parseManifest(fixture('buildkit-cache-index.json'));
    expect(parsed.children.map((child) => child.mediaType)).toEqual([MediaType.OciLayerGzip, MediaType.OciLayerGzip, MediaType.BuildKitCacheConfig]);
  });

  it('keeps foreign layer URLs of a Docker manifest', () => {
    const parsed = parseManifest(fixture('docker-v2s2-foreign-layers.json'));
    expect(parsed.layers.map((layer) => layer.urls?.length ?? 0)).toEqual([1, 1, 0]);
    expect(parsed.layers[0]?.mediaType).toBe(MediaType.DockerForeignLayer);
    expect(parsed.layers[0]?.size).toBe(1654613376);
  });

  it('lists the distinct schema-1 blobs and computes the signed digest over the JWS payload', () => {
    const signed = parseManifest(fixture('docker-schema1-signed.json'));
    expect(signed.schema1Blobs).toHaveLength(2);
    expect(signed.layers).toEqual([]);
    expect(signed.mediaType).toBe(MediaType.DockerSchema1Signed);
    expect(signed.digest).not.toBe(sha256(fixture('docker-schema1-signed.json')));
  });

  it('maps the legacy artifact manifest blobs to layers', () => {
    const parsed = parseManifest(fixture('oci-artifact-manifest.json'));
    expect(parsed.layers.map((blob) => blob.mediaType)).toEqual([MediaType.JoseJson]);
    expect(parsed.subject?.digest).toBe(`sha256:${CORPUS[0]?.[4]}`);
  });
});
