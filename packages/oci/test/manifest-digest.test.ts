import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { manifestDigest } from '../src/index.ts';
import { bytesOf, expectOciError, fixture } from './helpers.ts';

/** Hashed here, independently of the package's own digest code. */
const hashOf = (bytes: Uint8Array, algorithm: 'sha256' | 'sha512') => `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;

const signed = fixture('docker-schema1-signed.json');
const signedText = Buffer.from(signed).toString('utf8');
const unsigned = fixture('docker-schema1-unsigned.json');
const [signature] = (JSON.parse(signedText) as { signatures: { protected: string }[] }).signatures;

describe('manifestDigest', () => {
  it.each(['sha256', 'sha512'] as const)('is the %s of the bytes for a manifest that is not signed schema 1', (algorithm) => {
    for (const name of ['oci-image.json', 'docker-manifest-list.json', 'docker-schema1-unsigned.json']) {
      expect(manifestDigest(fixture(name), algorithm)).toBe(hashOf(fixture(name), algorithm));
    }
    expect(manifestDigest(fixture('oci-image.json'))).toBe(hashOf(fixture('oci-image.json'), 'sha256'));
  });

  it.each(['sha256', 'sha512'] as const)('is the %s of the JWS payload for signed schema 1, decided by the bytes alone', (algorithm) => {
    // The same bytes whether they came as `...v1+prettyjws`, `...v1+json` or `application/json`: there is no label to pass.
    expect(manifestDigest(signed, algorithm)).toBe(hashOf(unsigned, algorithm));
    expect(manifestDigest(signed, algorithm)).not.toBe(hashOf(signed, algorithm));
  });

  it.each([
    [
      'a schema 2 manifest with a signatures field',
      { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', signatures: [{ protected: 'x' }] },
    ],
    ['an annotation named signatures', { schemaVersion: 2, annotations: { signatures: 'none' } }],
    ['schema 1 whose signatures are not a list', { schemaVersion: 1, signatures: 'none' }],
    ['a schema version written as a string', { schemaVersion: '1', signatures: [{ protected: 'x' }] }],
  ])('is the digest of the bytes for %s', (_name, document) => {
    const bytes = bytesOf(document);
    expect(manifestDigest(bytes)).toBe(hashOf(bytes, 'sha256'));
  });

  it('is the digest of the bytes for a body that mentions "signatures" but is not JSON', () => {
    const bytes = bytesOf('{"schemaVersion": 1, "signatures": [');
    expect(manifestDigest(bytes)).toBe(hashOf(bytes, 'sha256'));
  });

  it.each([
    ['not base64url', '!!!'],
    ['base64url of no JSON', Buffer.from('not json').toString('base64url')],
    ['without formatTail', Buffer.from(JSON.stringify({ formatLength: 10 })).toString('base64url')],
    ['with a formatLength past the document', Buffer.from(JSON.stringify({ formatLength: 10_000_000, formatTail: 'fQ' })).toString('base64url')],
  ])('refuses a signed schema 1 whose protected header is %s with SIGNATURE_INVALID', (_name, header) => {
    const bad = Buffer.from(signedText.replace(signature?.protected ?? '', header));
    expectOciError(() => manifestDigest(bad), 'SIGNATURE_INVALID', 'signatures[0].protected');
  });
});
