import { CisternError, isCisternError, type ErrorCode } from '@cistern/errors';

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
] as const satisfies readonly ErrorCode[];

export type StorageErrorCode = (typeof storageErrorCodes)[number];

/** A blob store's refusal or I/O failure; the original I/O error, if any, is the cause. */
export class StorageError extends CisternError<StorageErrorCode> {
  override readonly name = 'StorageError';
}

/** A StorageError (not another package's error of the same code), optionally of one of the given codes. */
export function isStorageError(error: unknown, ...codes: StorageErrorCode[]): error is StorageError {
  return error instanceof StorageError && isCisternError(error, ...codes);
}

/** Wraps an I/O failure of the backing storage, keeping the original as `cause`. */
export function unavailable(what: string, cause: unknown): StorageError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new StorageError('STORAGE_UNAVAILABLE', `${what}: ${detail}`, { cause });
}
