import { isDigest, parseDigest, type ParsedDigest } from '@cistern/oci';
import { StorageError } from './errors.ts';

/**
 * `digest` split into algorithm and encoded hex by @cistern/oci's grammar:
 * exactly `sha256:<64 lowercase hex>` or `sha512:<128 lowercase hex>`, so
 * nothing that passes can name a path outside its shard directory. Throws a
 * StorageError DIGEST_INVALID (a store's own code) for anything else.
 */
export function checkedDigest(digest: string): ParsedDigest {
  if (typeof digest !== 'string' || !isDigest(digest)) {
    throw new StorageError('DIGEST_INVALID', `invalid digest ${JSON.stringify(String(digest).slice(0, 140))}`);
  }
  return parseDigest(digest);
}
