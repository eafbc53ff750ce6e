export type {
  BlobContent,
  BlobDeleter,
  BlobInfo,
  BlobReader,
  BlobSink,
  BlobStatter,
  BlobStore,
  BlobWriter,
  ByteRange,
  TemporaryTally,
  WriteResult,
} from './blob-store.ts';
export { StorageError, isStorageError, storageErrorCodes, type StorageErrorCode } from './errors.ts';
export { FilesystemBlobStore } from './filesystem-blob-store.ts';
export { found, unknownBlob } from './unknown-blob.ts';
export { streamContent } from './stream-content.ts';
