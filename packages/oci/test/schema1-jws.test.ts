import { createPublicKey, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { digestOf, parseManifest } from '../src/index.ts';
import { expectOciError, fixture } from './helpers.ts';

const signedText = Buffer.from(fixture('docker-schema1-signed.json')).toString('utf8');
const signed = JSON.parse(signedText) as { signatures: { header: { jwk: Record<string, string> }; signature: string; protected: string }[] };
const [signature] = signed.signatures as [(typeof signed.signatures)[number]];

describe('signed schema 1', () => {
  it('is a genuine libtrust JWS: the ES256 signature verifies over the payload the digest covers', () => {
    const unsigned = fixture('docker-schema1-unsigned.json');
    const key = createPublicKey({ key: { ...signature.header.jwk, kty: 'EC' }, format: 'jwk' });
    const input = `${signature.protected}.${Buffer.from(unsigned).toString('base64url')}`;
    const ok = verify('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature.signature, 'base64url'));
    expect(ok).toBe(true);
    expect(parseManifest(fixture('docker-schema1-signed.json')).digest).toBe(digestOf(unsigned));
  });

  it('refuses signatures that describe different payloads', () => {
    const otherTail = Buffer.from(JSON.stringify({ formatLength: 861, formatTail: Buffer.from('\n }').toString('base64url') })).toString('base64url');
    const two = signedText.replace(/"signatures": \[\n/, (m) => `${m}      ${JSON.stringify({ ...signature, protected: otherTail })},\n`);
    const error = expectOciError(() => parseManifest(Buffer.from(two)), 'SIGNATURE_INVALID', 'signatures[1].protected');
    expect(error.message).toContain('different payload');
  });

  it('refuses a protected header without formatTail', () => {
    const header = Buffer.from(JSON.stringify({ formatLength: 10 })).toString('base64url');
    const bad = signedText.replace(signature.protected, header);
    expectOciError(() => parseManifest(Buffer.from(bad)), 'SIGNATURE_INVALID', 'signatures[0].protected');
  });
});
