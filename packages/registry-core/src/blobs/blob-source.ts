import { isStorageError, type BlobContent, type BlobReader, type ByteRange } from '@cistern/storage';
import { RegistryError } from '../errors/registry-error.ts';

export type { BlobContent, ByteRange };

/**
 * Where the registry reads blob bytes from. The local store and the
 * on-demand store (a decorator over it) both implement it, so the HTTP layer
 * never knows whether a blob comes from disk or from a remote.
 */
export interface BlobSource {
  /** Rejects with BLOB_UNKNOWN when the blob cannot be served. */
  size(digest: string): Promise<number>;
  /** Rejects with BLOB_UNKNOWN, or RANGE_INVALID (with the Content-Range header to send) for a range outside the blob. */
  open(digest: string, range?: ByteRange): Promise<BlobContent>;
}

export function unknownBlob(digest: string): RegistryError {
  return new RegistryError('BLOB_UNKNOWN', 'blob unknown to registry', { detail: { digest } });
}

/** Blobs already in storage. */
export class LocalBlobSource implements BlobSource {
  constructor(private readonly store: BlobReader) {}

  async size(digest: string): Promise<number> {
    try {
      return (await this.store.stat(digest)).size;
    } catch (error) {
      throw this.translate(error, digest);
    }
  }

  async open(digest: string, range?: ByteRange): Promise<BlobContent> {
    try {
      return await this.store.open(digest, range);
    } catch (error) {
      if (isStorageError(error, 'RANGE_INVALID')) throw unsatisfiable(await this.size(digest));
      throw this.translate(error, digest);
    }
  }

  private translate(error: unknown, digest: string): unknown {
    if (isStorageError(error, 'BLOB_UNKNOWN')) return unknownBlob(digest);
    if (isStorageError(error, 'DIGEST_INVALID')) return new RegistryError('DIGEST_INVALID', 'invalid digest', { detail: { digest } });
    return error;
  }
}

/** 416 with `Content-Range: bytes *\/<size>`, as RFC 9110 asks. */
export function unsatisfiable(size: number): RegistryError {
  return new RegistryError('RANGE_INVALID', 'requested range not satisfiable', {
    detail: { size },
    headers: { 'content-range': `bytes */${size}` },
  });
}
