import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, evaluatePolicy, MediaType, MediaTypePolicy, parseManifest, type ParsedManifest } from '../src/index.ts';
import { fixture } from './helpers.ts';

const parse = (file: string): ParsedManifest => parseManifest(fixture(file));
const policy = (p: Partial<MediaTypePolicy>): MediaTypePolicy => MediaTypePolicy.parse(p);

describe('MediaTypePolicy', () => {
  it('defaults to artifacts on and no allow or deny patterns', () => {
    expect(DEFAULT_POLICY).toEqual({ artifacts: true, allow: [], deny: [] });
    expect(MediaTypePolicy.parse({})).toEqual(DEFAULT_POLICY);
    expect(Object.isFrozen(DEFAULT_POLICY)).toBe(true);
  });

  it('refuses empty patterns and wrong types', () => {
    expect(MediaTypePolicy.safeParse({ allow: [''] }).success).toBe(false);
    expect(MediaTypePolicy.safeParse({ deny: ['  '] }).success).toBe(false);
    expect(MediaTypePolicy.safeParse({ artifacts: 'yes' }).success).toBe(false);
    expect(MediaTypePolicy.parse({ deny: [' text/* '] }).deny).toEqual(['text/*']);
  });
});

describe('evaluatePolicy', () => {
  it('denies by glob over layer types, with the place and pattern in the reason', () => {
    expect(evaluatePolicy(parse('cosign-sbom.json'), policy({ deny: ['text/spdx*'] }))).toEqual({
      decision: 'reject',
      reason: 'layers[0] media type text/spdx+json matches deny pattern text/spdx*',
    });
  });

  it('denies by config type and by artifact type', () => {
    expect(evaluatePolicy(parse('helm-chart.json'), policy({ deny: ['application/vnd.cncf.helm.*'] }))).toEqual({
      decision: 'reject',
      reason: 'config media type application/vnd.cncf.helm.config.v1+json matches deny pattern application/vnd.cncf.helm.*',
    });
    expect(evaluatePolicy(parse('oras-default.json'), policy({ deny: ['application/vnd.unknown.*'] }))).toEqual({
      decision: 'reject',
      reason: 'artifactType media type application/vnd.unknown.artifact.v1 matches deny pattern application/vnd.unknown.*',
    });
  });

  it('denies an index by its entries and their artifact types', () => {
    const reject = evaluatePolicy(parse('buildkit-cache-index.json'), policy({ deny: ['application/vnd.buildkit.*'] }));
    expect(reject).toEqual({
      decision: 'reject',
      reason: 'manifests[2] media type application/vnd.buildkit.cacheconfig.v0 matches deny pattern application/vnd.buildkit.*',
    });
  });

  it('leaves what no deny pattern matches alone', () => {
    expect(evaluatePolicy(parse('oci-image.json'), policy({ deny: ['text/*', 'application/vnd.cncf.*'] }))).toEqual({ decision: 'accept' });
  });

  it('matches case-insensitively, as media types compare', () => {
    expect(evaluatePolicy(parse('cosign-sbom.json'), policy({ deny: ['TEXT/SPDX+JSON'] })).decision).toBe('reject');
  });

  it('takes + in a media type literally', () => {
    const exact = policy({ deny: ['application/vnd.oci.image.layer.v1.tar+gzip'] });
    expect(evaluatePolicy(parse('oci-image.json'), exact).decision).toBe('reject');
    expect(evaluatePolicy(parse('no-media-type.json'), policy({ deny: ['application/vnd.oci.image.layer.v1.tar+zstd'] })).decision).toBe('reject');
    expect(evaluatePolicy(parse('oci-image.json'), policy({ deny: ['application/vnd.oci.image.layer.v1.tar+zstd'] })).decision).toBe('accept');
  });

  it('with an allow list, requires every type the manifest names to match', () => {
    const ociOnly = policy({ allow: ['application/vnd.oci.*'] });
    expect(evaluatePolicy(parse('oci-image.json'), ociOnly)).toEqual({ decision: 'accept' });
    expect(evaluatePolicy(parse('helm-chart.json'), ociOnly)).toEqual({
      decision: 'reject',
      reason: 'config media type application/vnd.cncf.helm.config.v1+json matches no allow pattern',
    });
    expect(evaluatePolicy(parse('docker-v2s2-foreign-layers.json'), ociOnly)).toEqual({
      decision: 'reject',
      reason: 'manifest media type application/vnd.docker.distribution.manifest.v2+json matches no allow pattern',
    });
  });

  it('lets deny win over allow', () => {
    const both = policy({ allow: ['*/*'], deny: ['application/vnd.dev.cosign.*'] });
    expect(evaluatePolicy(parse('cosign-signature.json'), both)).toEqual({
      decision: 'reject',
      reason: 'layers[0] media type application/vnd.dev.cosign.simplesigning.v1+json matches deny pattern application/vnd.dev.cosign.*',
    });
    expect(evaluatePolicy(parse('oci-image.json'), both).decision).toBe('accept');
  });

  it('with artifacts off, passes images, schema 1 and indexes of manifests', () => {
    const off = policy({ artifacts: false });
    for (const file of [
      'oci-image.json',
      'no-media-type.json',
      'docker-v2s2-foreign-layers.json',
      'docker-manifest-list.json',
      'buildx-index-attestations.json',
      'docker-schema1-signed.json',
    ]) {
      expect(evaluatePolicy(parse(file), off), file).toEqual({ decision: 'accept' });
    }
  });

  it('with artifacts off, rejects every artifact with its classification in the reason', () => {
    const off = policy({ artifacts: false });
    expect(evaluatePolicy(parse('helm-chart.json'), off)).toEqual({
      decision: 'reject',
      reason: `artifacts are disabled: this manifest is classified helm (artifact type ${MediaType.HelmConfig})`,
    });
    expect(evaluatePolicy(parse('buildx-attestation-manifest.json'), off)).toEqual({
      decision: 'reject',
      reason: `artifacts are disabled: this manifest is classified attestation (artifact type ${MediaType.OciConfig})`,
    });
    for (const file of ['cosign-signature.json', 'sigstore-bundle.json', 'oras-default.json', 'oci-artifact-manifest.json', 'sif.json', 'wasm.json']) {
      expect(evaluatePolicy(parse(file), off).decision, file).toBe('reject');
    }
  });

  it('with artifacts off, rejects an index of blobs or with an artifact type', () => {
    const off = policy({ artifacts: false });
    expect(evaluatePolicy(parse('buildkit-cache-index.json'), off)).toEqual({
      decision: 'reject',
      reason: `artifacts are disabled: manifests[0] is ${MediaType.OciLayerGzip}, not a manifest`,
    });
    const typed = Buffer.from(fixture('buildx-index-attestations.json'))
      .toString()
      .replace('"manifests"', '"artifactType": "application/vnd.example.bundle",\n  "manifests"');
    expect(evaluatePolicy(parseManifest(Buffer.from(typed)), off)).toEqual({
      decision: 'reject',
      reason: 'artifacts are disabled: this index has artifact type application/vnd.example.bundle',
    });
  });

  it('with artifacts on, accepts the empty config and any config type', () => {
    for (const file of ['oras-default.json', 'flux.json', 'trivy-db.json', 'buildkit-cache-manifest.json']) {
      expect(evaluatePolicy(parse(file), DEFAULT_POLICY), file).toEqual({ decision: 'accept' });
    }
  });
});
