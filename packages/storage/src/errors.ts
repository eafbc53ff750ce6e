/**
 * Every failure a blob store reports on purpose. The registry maps each code
 * to an HTTP status once; anything else that escapes a store is a bug.
 */
export const storageErrorCodes = [
  'BLOB_UNKNOWN', // no blob with this digest
  'BLOB_UPLOAD_INVALID', // the writer was abandoned before its last byte
  'DIGEST_INVALID', // not `sha256:<64 hex>` or `sha512:<128 hex>`
  'DIGEST_MISMATCH', // the bytes written do not hash to the digest
  'SIZE_INVALID', // the bytes written are not the expected size, or the size is malformed
  'RANGE_INVALID', // a byte range outside the blob
  'STORAGE_UNAVAILABLE', // the backing storage cannot be read or written
] as const;

export type StorageErrorCode = (typeof storageErrorCodes)[number];

export class StorageError extends Error {
  override readonly name = 'StorageError';

  constructor(
    readonly code: StorageErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isStorageError(error: unknown, code?: StorageErrorCode): error is StorageError {
  return error instanceof StorageError && (code === undefined || error.code === code);
}

/** Wraps an I/O failure of the backing storage, keeping the original as `cause`. */
export function unavailable(what: string, cause: unknown): StorageError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new StorageError('STORAGE_UNAVAILABLE', `${what}: ${detail}`, { cause });
}
