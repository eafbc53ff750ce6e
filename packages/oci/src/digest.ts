import { createHash } from 'node:crypto';
import { OciError } from './errors.ts';

export type DigestAlgorithm = 'sha256' | 'sha512';

export interface ParsedDigest {
  algorithm: DigestAlgorithm;
  encoded: string;
}

/** Lowercase hex only: the image spec makes uppercase invalid, so two spellings of one digest cannot exist. */
const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };
const ENCODED: Record<DigestAlgorithm, RegExp> = {
  sha256: /^[a-f0-9]{64}$/,
  sha512: /^[a-f0-9]{128}$/,
};

/** The image-spec grammar, used only to tell "unsupported algorithm" from "not a digest" in messages. */
const GRAMMAR = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

function isAlgorithm(s: string): s is DigestAlgorithm {
  return s === 'sha256' || s === 'sha512';
}

function split(s: string): ParsedDigest | undefined {
  const colon = s.indexOf(':');
  const algorithm = s.slice(0, colon);
  const encoded = s.slice(colon + 1);
  return isAlgorithm(algorithm) && ENCODED[algorithm].test(encoded) ? { algorithm, encoded } : undefined;
}

export function parseDigest(s: string): ParsedDigest {
  const parsed = split(s);
  if (parsed === undefined) throw new OciError('DIGEST_INVALID', describeBadDigest(s));
  return parsed;
}

export function isDigest(s: string): boolean {
  return split(s) !== undefined;
}

/** Why `s` is not a digest, for messages. */
export function describeBadDigest(s: string): string {
  const shown = JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s);
  if (!GRAMMAR.test(s)) return `${shown} is not a digest (algorithm:encoded)`;
  const algorithm = s.slice(0, s.indexOf(':'));
  if (!isAlgorithm(algorithm)) return `${shown} uses an unsupported algorithm (sha256 and sha512 are supported)`;
  return `${shown} is not ${HEX_LENGTH[algorithm]} lowercase hex characters`;
}

export function digestOf(bytes: Uint8Array, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

export interface Digester {
  update(chunk: Uint8Array): void;
  /** The digest of everything passed to update; call once. */
  digest(): string;
}

/** For blobs too large to hold: hash chunks as they stream past. */
export function createDigester(algorithm: DigestAlgorithm = 'sha256'): Digester {
  const hash = createHash(algorithm);
  return {
    update: (chunk) => void hash.update(chunk),
    digest: () => `${algorithm}:${hash.digest('hex')}`,
  };
}

/** False (never a throw) for a malformed expected digest: it cannot match any bytes. */
export function verifyDigest(bytes: Uint8Array, expected: string): boolean {
  const parsed = split(expected);
  return parsed !== undefined && digestOf(bytes, parsed.algorithm) === expected;
}
