import type { BlobInfo } from './blob-store.ts';
import { StorageError } from './errors.ts';

/** The StorageError BLOB_UNKNOWN every reader rejects with for a blob it does not have. */
export function unknownBlob(digest: string): StorageError {
  return new StorageError('BLOB_UNKNOWN', `blob ${digest} is not stored`);
}

/** What a reader's `stat` answers from its `lookup`: `info`, or BLOB_UNKNOWN (thrown) when there is none. */
export function found(info: BlobInfo | undefined, digest: string): BlobInfo {
  if (info === undefined) throw unknownBlob(digest);
  return info;
}
