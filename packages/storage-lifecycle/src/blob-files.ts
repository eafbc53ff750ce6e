import { isStorageError, type BlobStore } from '@cistern/storage';

/** Unlinks a blob's file: true when there was one, false when it was already gone. Rejects when the store fails. */
export async function deleteFile(storage: BlobStore, digest: string): Promise<boolean> {
  try {
    await storage.delete(digest);
    return true;
  } catch (error) {
    if (!isStorageError(error, 'BLOB_UNKNOWN')) throw error;
    return false;
  }
}
