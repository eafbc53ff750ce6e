import type { Readable, Writable } from 'node:stream';

/**
 * Small interfaces composed into `BlobStore`, after CNCF Distribution's
 * BlobStatter / BlobProvider / BlobIngester. `BlobReader` is the one way
 * blobs are read: the filesystem store implements it, and so does the
 * registry's on-demand decorator over it (registry-core's
 * OnDemandBlobReader, after Distribution's proxyBlobStore); an object-storage
 * store would too. Every method rejects with a `StorageError` (see errors.ts)
 * for the failures it reports on purpose; a malformed digest is rejected
 * (DIGEST_INVALID) before any storage is touched.
 */

export interface BlobInfo {
  readonly digest: string;
  /** In bytes. */
  readonly size: number;
}

/** Inclusive byte offsets, as in an HTTP `Range: bytes=start-end`; no `end` means to the last byte. */
export interface ByteRange {
  readonly start: number;
  readonly end?: number;
}

export interface BlobContent {
  /** Size of the whole blob. */
  readonly size: number;
  /** First byte delivered. */
  readonly offset: number;
  /** Number of bytes delivered. */
  readonly length: number;
  /**
   * Writes the bytes into `destination` and ends it; on any failure destroys
   * it and rejects. Either way the source (an open file) is released. Once only.
   * `destination` must be done with a chunk when its write calls back (a
   * socket, an HTTP response, a file), since the chunk's buffer is then reused:
   * not a Transform or PassThrough, which hand the chunk on as it is.
   * `signal` ends the transfer from outside: an HTTP response queued behind a
   * pipelined one never learns that its client left.
   */
  writeTo(destination: Writable, signal?: AbortSignal): Promise<void>;
  /** Releases the source unread, instead of `writeTo`. */
  discard(): Promise<void>;
}

export interface WriteResult extends BlobInfo {
  /** False when the blob was already stored and these bytes were only verified. */
  readonly created: boolean;
}

export interface BlobSink {
  /** Hand bytes to it as they arrive; `end()` it after the last one, `destroy(err)` to abandon it. */
  readonly stream: Writable;
  /** Settles once the blob is durably in place, or once nothing of it is left behind. */
  readonly done: Promise<WriteResult>;
}

/** Whether a blob can be read, and its size. Absence is an answer here, never an error. */
export interface BlobStatter {
  /** The blob's digest and size; undefined when it is absent. */
  lookup(digest: string): Promise<BlobInfo | undefined>;
  /** As `lookup`, for callers to whom absence is a failure: rejects with BLOB_UNKNOWN then. */
  stat(digest: string): Promise<BlobInfo>;
  /** Whether `lookup` finds the blob. */
  exists(digest: string): Promise<boolean>;
}

export interface BlobReader extends BlobStatter {
  /** Rejects with BLOB_UNKNOWN when absent, RANGE_INVALID when the range falls outside the blob. */
  open(digest: string, range?: ByteRange): Promise<BlobContent>;
}

/**
 * Writes are verified (digest, and size when given) before they become
 * visible; a failed write leaves nothing behind. Writing a digest already
 * stored verifies and discards the bytes, and succeeds.
 */
export interface BlobWriter {
  put(digest: string, source: Readable, expectedSize?: number): Promise<WriteResult>;
  /** Throws DIGEST_INVALID / SIZE_INVALID at once for malformed arguments. */
  createWriteStream(digest: string, expectedSize?: number): BlobSink;
}

export interface BlobDeleter {
  /** Rejects with BLOB_UNKNOWN when absent. */
  delete(digest: string): Promise<void>;
}

/** Partial files: how many, and their size in bytes. */
export interface TemporaryTally {
  readonly files: number;
  readonly bytes: number;
}

export interface BlobStore extends BlobReader, BlobWriter, BlobDeleter {
  /** Start-up check: rejects with STORAGE_UNAVAILABLE, naming the location, when it cannot be written. */
  assertWritable(): Promise<void>;
  /**
   * Removes the partial files of writes that will never finish (their process
   * was killed mid-write, or an older version named them) once last modified
   * more than `olderThanMs` milliseconds ago (0: whatever their age). A file a
   * live writer may still be writing, in this process or another sharing the
   * store, is kept whatever its age. Answers what it removed; rejects with
   * STORAGE_UNAVAILABLE when the files cannot be listed or removed. With
   * `dryRun`, answers what it would remove and removes nothing.
   */
  sweepTemporary(options: { olderThanMs: number; dryRun?: boolean }): Promise<TemporaryTally>;
  /** The partial files in the store now, being written or abandoned; rejects with STORAGE_UNAVAILABLE when they cannot be listed. */
  temporaryUsage(): Promise<TemporaryTally>;
}
