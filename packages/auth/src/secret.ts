import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Recognisable in logs and secret scanners; the rest is 32 random bytes. */
export const TOKEN_PREFIX = 'cst_';

export function generateSecret(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** What the database keeps: the secret itself is shown once and never stored. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Constant-time comparison of two `hashSecret` results (64 hex characters each; anything else is unequal). */
export function hashesEqual(a: string, b: string): boolean {
  const hex = /^[0-9a-f]{64}$/;
  return hex.test(a) && hex.test(b) && timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));
}
