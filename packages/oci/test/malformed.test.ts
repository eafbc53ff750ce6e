import { describe, expect, it } from 'vitest';
import { OciError, parseManifest, type OciErrorCode } from '../src/index.ts';
import { bytesOf, expectOciError, fixture, fixtureJson } from './helpers.ts';

const image = fixtureJson('oci-image.json');
const index = fixtureJson('buildx-index-attestations.json');
const dockerList = fixtureJson('docker-manifest-list.json');
const artifact = fixtureJson('oras-default.json');
const schema1 = fixtureJson('docker-schema1-unsigned.json');
const legacy = fixtureJson('oci-artifact-manifest.json');

const config = image['config'] as Record<string, unknown>;
const layer = (image['layers'] as Record<string, unknown>[])[0] as Record<string, unknown>;
const HEX = 'a'.repeat(64);
const EMPTY_DIGEST = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';

const withLayer = (patch: Record<string, unknown>) => ({ ...image, layers: [{ ...layer, ...patch }] });
const withConfig = (patch: Record<string, unknown>) => ({ ...image, config: { ...config, ...patch } });
const without = (doc: Record<string, unknown>, key: string) => Object.fromEntries(Object.entries(doc).filter(([k]) => k !== key));
const signedText = Buffer.from(fixture('docker-schema1-signed.json')).toString('utf8');
const deep = (n: number) => `{"schemaVersion":2,"x":${'['.repeat(n)}${']'.repeat(n)}}`;

/** name, document (object or raw text), expected code, expected field. */
const MALFORMED: [string, unknown, OciErrorCode, string?][] = [
  // JSON itself
  ['empty input', '', 'JSON_INVALID'],
  ['truncated object', JSON.stringify(image).slice(0, 100), 'JSON_INVALID'],
  ['truncated after a key', '{"schemaVersion"', 'JSON_INVALID', 'schemaVersion'],
  ['trailing garbage', `${JSON.stringify(image)} x`, 'JSON_INVALID'],
  ['two documents', `${JSON.stringify(image)}{}`, 'JSON_INVALID'],
  ['single quotes', "{'schemaVersion':2}", 'JSON_INVALID'],
  ['trailing comma', '{"schemaVersion":2,}', 'JSON_INVALID'],
  ['NaN literal', '{"schemaVersion":NaN}', 'JSON_INVALID', 'schemaVersion'],
  ['leading zero', '{"schemaVersion":02}', 'JSON_INVALID', 'schemaVersion'],
  ['raw control character in a string', '{"a":"\u0007"}', 'JSON_INVALID', 'a'],
  ['bad escape', '{"a":"\\q"}', 'JSON_INVALID', 'a'],
  ['byte-order mark', `\uFEFF${JSON.stringify(image)}`, 'JSON_INVALID'],
  ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), 'JSON_INVALID'],
  ['comment', '{"schemaVersion":2 /* two */}', 'JSON_INVALID', 'schemaVersion'],
  ['top-level array', '[]', 'JSON_NOT_OBJECT'],
  ['top-level string', '"manifest"', 'JSON_NOT_OBJECT'],
  ['top-level null', 'null', 'JSON_NOT_OBJECT'],
  ['deep nesting', deep(100_000), 'JSON_TOO_DEEP'],
  ['nesting one past the limit', deep(64), 'JSON_TOO_DEEP'],
  ['duplicate top-level key', '{"schemaVersion":2,"schemaVersion":2}', 'DUPLICATE_KEY', 'schemaVersion'],
  ['duplicate key in a layer', JSON.stringify(image).replace('"size":48', '"size":48,"size":1'), 'DUPLICATE_KEY', 'layers[0].size'],
  ['duplicate key spelled with an escape', JSON.stringify(image).replace('"layers"', '"layers":[],"\\u006cayers"'), 'DUPLICATE_KEY', 'layers'],
  ['duplicate annotation key', '{"annotations":{"a":"1","a":"2"}}', 'DUPLICATE_KEY', 'annotations.a'],
  ['size above 2^53 - 1', JSON.stringify(image).replace('"size":48', '"size":9007199254740993'), 'NUMBER_UNSAFE', 'layers[0].size'],
  ['size of exactly 2^53', JSON.stringify(image).replace('"size":48', '"size":9007199254740992'), 'NUMBER_UNSAFE', 'layers[0].size'],
  ['number that overflows', '{"schemaVersion":1e999}', 'NUMBER_UNSAFE', 'schemaVersion'],
  ['huge number in an unknown field', '{"x":{"y":[123456789012345678901234567890]}}', 'NUMBER_UNSAFE', 'x.y[0]'],
  ['__proto__ at the top', '{"__proto__":{"polluted":true},"schemaVersion":2}', 'FORBIDDEN_KEY', '__proto__'],
  [
    '__proto__ in annotations',
    JSON.stringify({ ...image, annotations: {} }).replace('"annotations":{}', '"annotations":{"__proto__":"x"}'),
    'FORBIDDEN_KEY',
    'annotations.__proto__',
  ],
  ['__proto__ spelled with an escape', '{"\\u005f_proto__":{}}', 'FORBIDDEN_KEY', '__proto__'],
  // kind
  ['unknown declared media type', { ...image, mediaType: 'application/vnd.example.thing+json' }, 'UNSUPPORTED_MEDIA_TYPE', 'mediaType'],
  ['a config blob type as manifest type', { ...image, mediaType: 'application/vnd.oci.image.config.v1+json' }, 'UNSUPPORTED_MEDIA_TYPE', 'mediaType'],
  ['declared media type not RFC 6838', { ...image, mediaType: 'not a media type' }, 'MEDIA_TYPE_INVALID', 'mediaType'],
  ['declared media type of the wrong JSON type', { ...image, mediaType: 2 }, 'MANIFEST_INVALID', 'mediaType'],
  ['no media type and no manifest shape', { schemaVersion: 2, annotations: {} }, 'UNSUPPORTED_MEDIA_TYPE'],
  // structure
  ['schemaVersion 1 on an OCI manifest', { ...image, schemaVersion: 1 }, 'SCHEMA_VERSION_INVALID', 'schemaVersion'],
  ['schemaVersion 3 on an index', { ...index, schemaVersion: 3 }, 'SCHEMA_VERSION_INVALID', 'schemaVersion'],
  ['schemaVersion as a string', { ...image, schemaVersion: '2' }, 'MANIFEST_INVALID', 'schemaVersion'],
  ['schemaVersion missing', without(image, 'schemaVersion'), 'MANIFEST_INVALID', 'schemaVersion'],
  ['config missing', without(image, 'config'), 'MANIFEST_INVALID', 'config'],
  ['layers not an array', { ...image, layers: {} }, 'MANIFEST_INVALID', 'layers'],
  ['image manifest that also has manifests (CVE-2021-41190)', { ...image, manifests: [] }, 'MANIFEST_INVALID', 'manifests'],
  ['index that also has layers (CVE-2021-41190)', { ...index, layers: [] }, 'MANIFEST_INVALID', 'layers'],
  ['Docker list that also has config', { ...dockerList, config }, 'MANIFEST_INVALID', 'config'],
  ['manifests missing from an index', without(index, 'manifests'), 'MANIFEST_INVALID', 'manifests'],
  ['digest missing', withLayer({ digest: undefined }), 'MANIFEST_INVALID', 'layers[0].digest'],
  ['digest with uppercase hex', withLayer({ digest: `sha256:${'A'.repeat(64)}` }), 'DIGEST_INVALID', 'layers[0].digest'],
  ['digest too short', withLayer({ digest: 'sha256:abc' }), 'DIGEST_INVALID', 'layers[0].digest'],
  ['digest without algorithm', withLayer({ digest: HEX }), 'DIGEST_INVALID', 'layers[0].digest'],
  ['digest with unsupported algorithm', withLayer({ digest: `md5:${'a'.repeat(32)}` }), 'DIGEST_INVALID', 'layers[0].digest'],
  ['sha512 digest of sha256 length', withLayer({ digest: `sha512:${HEX}` }), 'DIGEST_INVALID', 'layers[0].digest'],
  ['bad config digest', withConfig({ digest: 'sha256:' }), 'DIGEST_INVALID', 'config.digest'],
  ['negative size', withLayer({ size: -1 }), 'SIZE_INVALID', 'layers[0].size'],
  ['fractional size', withLayer({ size: 1.5 }), 'SIZE_INVALID', 'layers[0].size'],
  ['size as a string', withLayer({ size: '48' }), 'MANIFEST_INVALID', 'layers[0].size'],
  ['layer media type without a slash', withLayer({ mediaType: 'tar' }), 'MEDIA_TYPE_INVALID', 'layers[0].mediaType'],
  ['layer media type with a space', withLayer({ mediaType: 'application/x tar' }), 'MEDIA_TYPE_INVALID', 'layers[0].mediaType'],
  ['artifactType not RFC 6838', { ...artifact, artifactType: 'oras' }, 'MEDIA_TYPE_INVALID', 'artifactType'],
  ['annotation value not a string', { ...image, annotations: { 'org.example': 1 } }, 'MANIFEST_INVALID', 'annotations["org.example"]'],
  ['urls not URLs', withLayer({ urls: ['not a url'] }), 'MANIFEST_INVALID', 'layers[0].urls[0]'],
  ['data that is not base64', withConfig({ data: '!!!' }), 'DATA_MISMATCH', 'config.data'],
  ['data of the wrong size', withConfig({ data: 'e30=' }), 'DATA_MISMATCH', 'config.data'],
  ['data with the right size and wrong digest', { ...artifact, config: { ...(artifact['config'] as object), data: 'e31=' } }, 'DATA_MISMATCH', 'config.data'],
  ['empty config without artifactType', without(artifact, 'artifactType'), 'ARTIFACT_TYPE_REQUIRED', 'artifactType'],
  [
    'empty descriptor with the wrong digest',
    { ...artifact, config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: `sha256:${HEX}`, size: 2 } },
    'EMPTY_DESCRIPTOR_INVALID',
    'config.digest',
  ],
  [
    'empty descriptor with the wrong size',
    { ...artifact, config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: EMPTY_DIGEST, size: 3 } },
    'EMPTY_DESCRIPTOR_INVALID',
    'config.size',
  ],
  [
    'index platform without os',
    { ...index, manifests: [{ ...(index['manifests'] as object[])[0], platform: { architecture: 'amd64' } }] },
    'MANIFEST_INVALID',
    'manifests[0].platform.os',
  ],
  [
    'Docker list entry without platform',
    { ...dockerList, manifests: [without((dockerList['manifests'] as Record<string, unknown>[])[0] ?? {}, 'platform')] },
    'MANIFEST_INVALID',
    'manifests[0].platform',
  ],
  [
    'subject with a bad digest',
    { ...artifact, subject: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: 'sha256:zz', size: 1 } },
    'DIGEST_INVALID',
    'subject.digest',
  ],
  ['legacy artifact manifest without artifactType', without(legacy, 'artifactType'), 'MANIFEST_INVALID', 'artifactType'],
  [
    'schema 1 with a bad blobSum',
    { ...schema1, fsLayers: [{ blobSum: 'tarsum+sha256:abc' }, { blobSum: `sha256:${HEX}` }] },
    'DIGEST_INVALID',
    'fsLayers[0].blobSum',
  ],
  ['schema 1 with history and fsLayers of different lengths', { ...schema1, history: [] }, 'MANIFEST_INVALID', 'history'],
  ['schema 1 with schemaVersion 2', { ...schema1, schemaVersion: 2 }, 'SCHEMA_VERSION_INVALID', 'schemaVersion'],
  [
    'signed schema 1 whose protected header is not base64url',
    signedText.replace(/"protected": "[^"]+"/, '"protected": "!!"'),
    'SIGNATURE_INVALID',
    'signatures[0].protected',
  ],
  [
    'signed schema 1 whose formatLength exceeds the document',
    signedText.replace(/"protected": "[^"]+"/, `"protected": "${Buffer.from('{"formatLength":999999,"formatTail":"Cn0"}').toString('base64url')}"`),
    'SIGNATURE_INVALID',
    'signatures[0].protected',
  ],
  ['signed schema 1 with empty signatures', signedText.replace(/"signatures": \[[\s\S]*\]\n}$/, '"signatures": []\n}'), 'MANIFEST_INVALID', 'signatures'],
];

describe('malformed manifests', () => {
  it('has at least 40 cases', () => {
    expect(MALFORMED.length).toBeGreaterThanOrEqual(40);
  });

  const cases = MALFORMED.map(([name, doc, code, field]) => ({ name, doc, code, field }));
  it.each(cases)('$name → $code', ({ doc, code, field }) => {
    const bytes = doc instanceof Uint8Array ? doc : bytesOf(doc);
    expectOciError(() => parseManifest(bytes), code, field);
  });

  it('refuses a manifest over the size limit before reading it, and honours a configured limit', () => {
    const bytes = fixture('oci-image.json');
    expectOciError(() => parseManifest(new Uint8Array(4 * 1024 * 1024 + 1)), 'MANIFEST_TOO_LARGE');
    expectOciError(() => parseManifest(bytes, { maxBytes: bytes.length - 1 }), 'MANIFEST_TOO_LARGE');
    expect(parseManifest(bytes, { maxBytes: bytes.length }).kind).toBe('oci-manifest');
  });

  it('accepts a manifest of 4 MiB', () => {
    const padding = 4 * 1024 * 1024 - JSON.stringify({ ...image, annotations: { pad: '' } }).length;
    const bytes = bytesOf({ ...image, annotations: { pad: 'x'.repeat(padding) } });
    expect(bytes.length).toBe(4 * 1024 * 1024);
    expect(parseManifest(bytes).annotations?.['pad']).toHaveLength(padding);
  });

  it('never pollutes Object.prototype', () => {
    expect(() => parseManifest(bytesOf('{"__proto__":{"polluted":true}}'))).toThrow(OciError);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('accepts layers: [] (the conformance suite pushes it)', () => {
    expect(parseManifest(bytesOf({ ...image, layers: [] })).layers).toEqual([]);
  });

  it('accepts nested indexes and unknown entry media types', () => {
    const entry = { mediaType: 'application/vnd.oci.image.index.v1+json', digest: `sha256:${HEX}`, size: 10 };
    const odd = { mediaType: 'application/vnd.example.whatever', digest: `sha256:${HEX}`, size: 0 };
    expect(parseManifest(bytesOf({ ...index, manifests: [entry, odd] })).children).toHaveLength(2);
  });

  it('takes the kind from Content-Type when the document has no mediaType, parameters and case aside', () => {
    const noType = without(image, 'mediaType');
    expect(parseManifest(bytesOf(noType), { contentType: 'Application/VND.docker.distribution.manifest.v2+json; charset=utf-8' }).kind).toBe('docker-manifest');
    expect(parseManifest(bytesOf(noType), { contentType: 'application/json' }).kind).toBe('oci-manifest');
    expect(parseManifest(bytesOf(image), { contentType: 'application/vnd.docker.distribution.manifest.v2+json' }).kind).toBe('oci-manifest');
  });

  it('reports the first problem with its field in the message', () => {
    const error = expectOciError(() => parseManifest(bytesOf(withLayer({ digest: 'sha256:ABC' }))), 'DIGEST_INVALID', 'layers[0].digest');
    expect(error.message).toBe('layers[0].digest: "sha256:ABC" is not 64 lowercase hex characters');
  });
});
