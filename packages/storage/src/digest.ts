import { StorageError } from './errors.ts';

export type DigestAlgorithm = 'sha256' | 'sha512';

export interface ParsedDigest {
  readonly algorithm: DigestAlgorithm;
  readonly hex: string;
}

// Anchored, lowercase only, fixed length: nothing that passes can name a path
// outside its shard directory.
const pattern = /^(?:sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/;

/** Accepts exactly `sha256:<64 lowercase hex>` or `sha512:<128 lowercase hex>`. */
export function parseDigest(digest: string): ParsedDigest {
  if (typeof digest !== 'string' || !pattern.test(digest)) {
    throw new StorageError('DIGEST_INVALID', `invalid digest ${JSON.stringify(String(digest).slice(0, 140))}`);
  }
  const algorithm = digest.startsWith('sha256:') ? 'sha256' : 'sha512';
  return { algorithm, hex: digest.slice(algorithm.length + 1) };
}
