import { isStorageError, type BlobStore } from '@cistern/storage';
import PQueue from 'p-queue';

/** File deletions in flight: each is an unlink and a directory fsync, mostly waiting on the disk. */
const FILE_DELETES = 32;

/** Unlinks a blob's file: true when there was one, false when it was already gone. Rejects when the store fails. */
async function deleteFile(storage: BlobStore, digest: string): Promise<boolean> {
  try {
    await storage.delete(digest);
    return true;
  } catch (error) {
    if (!isStorageError(error, 'BLOB_UNKNOWN')) throw error;
    return false;
  }
}

/** Unlinks the files of `digests`, `FILE_DELETES` at a time; one already gone is fine. Rejects when the store fails. */
export async function deleteFiles(storage: BlobStore, digests: readonly string[]): Promise<void> {
  const queue = new PQueue({ concurrency: FILE_DELETES });
  await Promise.all(digests.map((digest) => queue.add(() => deleteFile(storage, digest))));
}
