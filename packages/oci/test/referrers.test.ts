import { describe, expect, it } from 'vitest';
import { cosignTagsFor, MediaType, parseManifest, referrerDescriptor, referrersTagFor } from '../src/index.ts';
import { expectOciError, fixture } from './helpers.ts';

const HEX = 'c'.repeat(64);

describe('referrers', () => {
  it('describes a manifest with its artifactType and annotations, keys in Go order', () => {
    const parsed = parseManifest(fixture('spdx-sbom.json'));
    const descriptor = referrerDescriptor(parsed);
    expect(descriptor).toEqual({
      mediaType: MediaType.OciManifest,
      digest: 'sha256:bbe046a515c8f33839ecd78472e66f07499a4d97861476b23b9088f41ed755d7',
      size: fixture('spdx-sbom.json').length,
      annotations: { 'org.opencontainers.image.created': '2024-05-14T09:21:37Z' },
      artifactType: MediaType.SpdxJson,
    });
    expect(Object.keys(descriptor)).toEqual(['mediaType', 'digest', 'size', 'annotations', 'artifactType']);
    expect(descriptor.annotations).not.toBe(parsed.annotations);
  });

  it('falls back to the config type for a manifest without artifactType', () => {
    expect(referrerDescriptor(parseManifest(fixture('cosign-signature.json'))).artifactType).toBe(MediaType.OciConfig);
  });

  it('leaves artifactType out for an index without one and keeps it for one with', () => {
    const plain = referrerDescriptor(parseManifest(fixture('buildx-index-attestations.json')));
    expect('artifactType' in plain).toBe(false);
    expect('annotations' in plain).toBe(false);
    const text = Buffer.from(fixture('buildkit-cache-index.json'))
      .toString()
      .replace('"manifests"', '"artifactType": "application/vnd.example.set",\n  "manifests"');
    expect(referrerDescriptor(parseManifest(Buffer.from(text))).artifactType).toBe('application/vnd.example.set');
  });

  it('names the referrers tag schema tag, sha512 cut to 64 characters', () => {
    expect(referrersTagFor(`sha256:${HEX}`)).toBe(`sha256-${HEX}`);
    expect(referrersTagFor(`sha512:${'d'.repeat(128)}`)).toBe(`sha512-${'d'.repeat(64)}`);
    expectOciError(() => referrersTagFor('sha256:nope'), 'DIGEST_INVALID');
  });

  it('names the cosign tags, none for sha512 (they would exceed the tag grammar)', () => {
    expect(cosignTagsFor(`sha256:${HEX}`)).toEqual([`sha256-${HEX}.sig`, `sha256-${HEX}.att`, `sha256-${HEX}.sbom`]);
    expect(cosignTagsFor(`sha512:${'d'.repeat(128)}`)).toEqual([]);
  });
});
