import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  classify,
  contentTypeMediaType,
  isManifestMediaType,
  isMediaType,
  MANIFEST_ACCEPT,
  manifestAcceptHeader,
  MediaType,
  parseManifest,
} from '../src/index.ts';
import { fixture } from './helpers.ts';

describe('media types', () => {
  it('accepts every known type as RFC 6838', () => {
    for (const type of Object.values(MediaType)) expect(isMediaType(type), type).toBe(true);
  });

  it.each(['', 'text', 'text/', '/plain', 'text/plain; charset=utf-8', 'text/pl ain', `a/${'b'.repeat(128)}`])('refuses %j', (type) => {
    expect(isMediaType(type)).toBe(false);
  });

  it('asks upstream for the media type of every manifest kind in the corpus, and nothing else', () => {
    const kinds = new Set(readdirSync(new URL('./fixtures/', import.meta.url)).map((file) => parseManifest(fixture(file)).mediaType));
    expect(kinds.size).toBe(7);
    expect(new Set(MANIFEST_ACCEPT)).toEqual(kinds);
    expect(manifestAcceptHeader()).toBe(MANIFEST_ACCEPT.join(', '));
    expect(Object.isFrozen(MANIFEST_ACCEPT)).toBe(true);
    expect(MANIFEST_ACCEPT.every(isManifestMediaType)).toBe(true);
    expect(isManifestMediaType(MediaType.OciConfig)).toBe(false);
  });

  it('reads the media type of a Content-Type header', () => {
    expect(contentTypeMediaType(' Application/JSON ; charset=utf-8')).toBe('application/json');
  });
});

describe('classify', () => {
  const manifest = { kind: 'oci-manifest' as const, artifactType: undefined, configType: MediaType.OciConfig };

  it('calls an image config with image layers, or none, an image', () => {
    expect(classify({ ...manifest, layerTypes: [MediaType.OciLayerNondistributableGzip, MediaType.DockerLayer] })).toBe('image');
    expect(classify({ ...manifest, layerTypes: [] })).toBe('image');
  });

  it('calls mixed or unknown layers on an image config an artifact', () => {
    expect(classify({ ...manifest, layerTypes: [MediaType.OciLayerGzip, MediaType.CosignSimpleSigning] })).toBe('artifact');
    expect(classify({ ...manifest, layerTypes: ['application/x-custom'] })).toBe('artifact');
  });

  it('lets a declared artifactType decide over an image config', () => {
    expect(classify({ ...manifest, artifactType: 'application/vnd.example+json', layerTypes: [MediaType.OciLayerGzip] })).toBe('artifact');
    expect(classify({ ...manifest, artifactType: 'application/vnd.dev.sigstore.bundle.v0.2+json', layerTypes: [] })).toBe('sigstore-bundle');
    expect(classify({ ...manifest, artifactType: MediaType.CycloneDxXml, layerTypes: [] })).toBe('sbom');
  });

  it('classifies a legacy artifact manifest by its artifactType alone', () => {
    expect(classify({ kind: 'oci-artifact-manifest', artifactType: MediaType.SyftJson, configType: undefined, layerTypes: [] })).toBe('sbom');
    expect(classify({ kind: 'oci-artifact-manifest', artifactType: 'application/vnd.example', configType: undefined, layerTypes: [] })).toBe('artifact');
  });
});
