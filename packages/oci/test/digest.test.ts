import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createDigester, digestOf, isDigest, parseDigest, verifyDigest } from '../src/index.ts';
import { expectOciError } from './helpers.ts';

const HELLO = Buffer.from('hello');
const HELLO_256 = 'sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824';
const HELLO_512 = 'sha512:9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca72323c3d99ba5c11d7c7acc6e14b8c5da0c4663475c2e5c3adef46f73bcdec043';

describe('digests', () => {
  it('computes sha256 and sha512 digests', () => {
    expect(digestOf(HELLO)).toBe(HELLO_256);
    expect(digestOf(HELLO, 'sha512')).toBe(HELLO_512);
  });

  it('parses both algorithms', () => {
    expect(parseDigest(HELLO_256)).toEqual({ algorithm: 'sha256', encoded: HELLO_256.slice(7) });
    expect(parseDigest(HELLO_512)).toEqual({ algorithm: 'sha512', encoded: HELLO_512.slice(7) });
  });

  it.each([
    ['', 'is not a digest'],
    ['sha256', 'is not a digest'],
    [HELLO_256.toUpperCase(), 'is not a digest'],
    [`sha256:${HELLO_256.slice(7).toUpperCase()}`, 'is not 64 lowercase hex characters'],
    [`${HELLO_256}0`, 'is not 64 lowercase hex characters'],
    [`sha512:${HELLO_256.slice(7)}`, 'is not 128 lowercase hex characters'],
    [`blake3:${HELLO_256.slice(7)}`, 'unsupported algorithm'],
    [` ${HELLO_256}`, 'is not a digest'],
  ])('refuses %j: %s', (s, message) => {
    expect(isDigest(s)).toBe(false);
    expect(expectOciError(() => parseDigest(s), 'DIGEST_INVALID').message).toContain(message);
  });

  it('streams: chunks give the digest of the whole', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }), fc.constantFrom('sha256' as const, 'sha512' as const), (chunks, algorithm) => {
        const digester = createDigester(algorithm);
        chunks.forEach((chunk) => digester.update(chunk));
        const whole = Buffer.concat(chunks);
        expect(digester.digest()).toBe(`${algorithm}:${createHash(algorithm).update(whole).digest('hex')}`);
      }),
    );
  });

  it('verifies bytes against either algorithm, false for a mismatch or a malformed digest', () => {
    expect(verifyDigest(HELLO, HELLO_256)).toBe(true);
    expect(verifyDigest(HELLO, HELLO_512)).toBe(true);
    expect(verifyDigest(Buffer.from('hellO'), HELLO_256)).toBe(false);
    expect(verifyDigest(HELLO, 'sha256:nope')).toBe(false);
  });
});
