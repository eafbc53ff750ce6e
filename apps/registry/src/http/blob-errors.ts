import { RegistryError } from '@cistern/registry-core';
import { isStorageError, type BlobStatter } from '@cistern/storage';

/** 416 with `Content-Range: bytes *\/<size>`, as RFC 9110 asks; `size` in bytes. */
export function unsatisfiable(size: number): RegistryError {
  return new RegistryError('RANGE_INVALID', 'requested range not satisfiable', {
    detail: { size },
    headers: { 'content-range': `bytes */${size}` },
  });
}

/**
 * The registry's edge for blob reads: a StorageError code a BlobReader
 * rejects with becomes the Distribution error clients expect: BLOB_UNKNOWN
 * 404, DIGEST_INVALID 400, RANGE_INVALID 416 with the blob's size (looked up
 * again through `blobs`) in Content-Range. Any other error is returned as it is.
 */
export async function blobError(error: unknown, digest: string, blobs: BlobStatter): Promise<unknown> {
  if (!isStorageError(error)) return error;
  switch (error.code) {
    case 'BLOB_UNKNOWN':
      return unknown(digest);
    case 'DIGEST_INVALID':
      return new RegistryError('DIGEST_INVALID', 'invalid digest', { detail: { digest } });
    case 'RANGE_INVALID': {
      const info = await blobs.lookup(digest);
      return info ? unsatisfiable(info.size) : unknown(digest);
    }
    default:
      return error;
  }
}

function unknown(digest: string): RegistryError {
  return new RegistryError('BLOB_UNKNOWN', 'blob unknown to registry', { detail: { digest } });
}
