import { createHash } from 'node:crypto';
import { link, rename, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Writable } from 'node:stream';
import type { BlobSink, WriteResult } from './blob-store.ts';
import type { DigestAlgorithm, ParsedDigest } from '@cistern/oci';
import { POOLED_BUFFER_BYTES, returnBuffer, takeAlignedBuffer, takeBuffer } from './buffer-pool.ts';
import type { DirectWrites } from './direct-io.ts';
import { StorageError, isStorageError, unavailable } from './errors.ts';
import { type KnownDirectories, isErrno, syncDirectory } from './fs-util.ts';
import type { TemporaryArea } from './temporary-area.ts';
import type { TemporaryFile } from './temporary-file.ts';

export interface BlobFileTarget extends ParsedDigest {
  readonly digest: string;
  /** Where the verified blob ends up. */
  readonly path: string;
  /** Where the store keeps a blob of that digest. */
  readonly pathOf: (algorithm: DigestAlgorithm, encoded: string) => string;
  /** Where the bytes are written until verified: on the same filesystem as `path`, so that the final rename is atomic. */
  readonly temporaries: TemporaryArea;
  readonly expectedSize: number | undefined;
  /** The store's directories already created, so a blob costs no mkdir of its own. */
  readonly directories: KnownDirectories;
  /** Used for blobs expected to fill at least one pooled buffer. */
  readonly directWrites: DirectWrites;
}

/**
 * A sink that hashes what it is given while writing it to a temporary file,
 * and on `end()` verifies size and digest, fsyncs and renames the file into
 * place. 'finish' therefore means the blob is durably stored. On any failure,
 * or on `destroy()`, the temporary file is removed before 'error' / 'close'.
 * When the blob is already stored the bytes are verified and discarded.
 * A digest in another algorithm than sha256 is also hashed in sha256, and its
 * path is a hard link to the sha256 file: the bytes are stored once whatever
 * digests name them.
 */
class BlobFileWriter extends Writable {
  committed: WriteResult | undefined;
  private readonly hash;
  /** Only for digests in another algorithm: sha256 blobs, nearly all, are hashed once. */
  private readonly sha256;
  /** Absent when the blob was already stored, and once committed. */
  private temporary: TemporaryFile | undefined;
  private received = 0;
  /** Where the next batch goes in the file. */
  private nextPosition = 0;
  // Bytes are copied into a pooled buffer and written a full buffer at a time,
  // one write in flight while the next buffer fills. Copying, rather than
  // keeping the caller's chunks until written, lets the caller reuse a chunk
  // once its write called back, and writes exactly the bytes that were hashed.
  private batch: Buffer | undefined;
  private batchLength = 0;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(private readonly target: BlobFileTarget) {
    super();
    this.hash = createHash(target.algorithm);
    this.sha256 = target.algorithm === 'sha256' ? undefined : createHash('sha256');
  }

  override _construct(callback: (error?: Error | null) => void): void {
    this.prepare().then(
      () => callback(),
      (error: unknown) => callback(this.storageError(error)),
    );
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.take([chunk]).then(
      () => callback(),
      (error: unknown) => callback(this.storageError(error)),
    );
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    this.take(chunks.map((c) => c.chunk)).then(
      () => callback(),
      (error: unknown) => callback(this.storageError(error)),
    );
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.commit().then(
      () => callback(),
      (error: unknown) => callback(this.storageError(error)),
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // The batch being filled is never the one being written (that one returns itself).
    if (this.batch !== undefined) returnBuffer(this.batch);
    this.batch = undefined;
    const { temporary } = this;
    this.temporary = undefined;
    void Promise.resolve(temporary?.remove()).then(() => {
      if (temporary !== undefined) this.target.temporaries.release(temporary);
      callback(error);
    });
  }

  private async prepare(): Promise<void> {
    const { path, temporaries, encoded, expectedSize, directWrites } = this.target;
    if (await isFile(path)) return; // already stored: verify only
    // O_DIRECT pays for blobs that fill at least one buffer; smaller ones would be all tail.
    const direct = expectedSize !== undefined && expectedSize >= POOLED_BUFFER_BYTES ? directWrites : undefined;
    this.temporary = await temporaries.create(encoded, direct);
  }

  private async take(buffers: Buffer[]): Promise<void> {
    for (const buffer of buffers) this.received += buffer.length;
    const { expectedSize } = this.target;
    if (expectedSize !== undefined && this.received > expectedSize) throw this.sizeError();
    for (const buffer of buffers) {
      this.hash.update(buffer);
      this.sha256?.update(buffer);
      if (this.temporary !== undefined) await this.append(this.temporary, buffer);
    }
  }

  private async append(file: TemporaryFile, buffer: Buffer): Promise<void> {
    for (let offset = 0; offset < buffer.length;) {
      // Destroyed while a flush waited: _destroy gave the batch back, and a new one would never be.
      if (this.destroyed) return;
      this.batch ??= file.isDirect ? takeAlignedBuffer() : takeBuffer();
      const copied = buffer.copy(this.batch, this.batchLength, offset);
      offset += copied;
      this.batchLength += copied;
      if (this.batchLength === this.batch.length) await this.flush(file);
    }
  }

  /** Waits for the write in flight, then starts writing the batch (without waiting for it). */
  private async flush(file: TemporaryFile): Promise<void> {
    await this.inFlight;
    const { batch, batchLength } = this;
    if (batch === undefined) return;
    this.batch = undefined;
    this.batchLength = 0;
    const position = this.nextPosition;
    this.nextPosition += batchLength;
    // Once the write is over, failed or not, nothing references the buffer.
    this.inFlight = file.write(batch.subarray(0, batchLength), position).finally(() => returnBuffer(batch));
    // Observed here; the next flush or the commit awaits it.
    this.inFlight.catch(() => undefined);
  }

  private async commit(): Promise<void> {
    const { digest, algorithm, path, expectedSize, directories } = this.target;
    if (expectedSize !== undefined && this.received !== expectedSize) throw this.sizeError();
    const actual = `${algorithm}:${this.hash.digest('hex')}`;
    if (actual !== digest) {
      throw new StorageError('DIGEST_MISMATCH', `content of ${digest} hashes to ${actual}`);
    }
    const { temporary } = this;
    if (temporary !== undefined) {
      await this.flush(temporary);
      await this.inFlight;
      await temporary.sync();
      await temporary.close();
      if (this.sha256 === undefined) await moveInto(directories, temporary.path, path);
      else await this.linkToSha256(temporary, this.target.pathOf('sha256', this.sha256.digest('hex')));
      this.temporary = undefined;
      this.target.temporaries.release(temporary);
    }
    this.committed = { digest, size: this.received, created: temporary !== undefined };
  }

  /** Places the blob as a hard link to its sha256 file, which these bytes become when it is absent. */
  private async linkToSha256(temporary: TemporaryFile, sha256Path: string): Promise<void> {
    const { path, directories } = this.target;
    await directories.ensure(dirname(path));
    if (await linkOnce(sha256Path, path)) {
      await temporary.remove();
    } else {
      await moveInto(directories, temporary.path, sha256Path);
      // Absent again only if deleted in between: then this write fails, leaving nothing half-placed.
      if (!(await linkOnce(sha256Path, path))) throw new StorageError('STORAGE_UNAVAILABLE', `cannot link ${this.target.digest}: ${sha256Path} vanished`);
    }
    await syncDirectory(dirname(path));
  }

  private sizeError(): StorageError {
    const { digest, expectedSize } = this.target;
    return new StorageError('SIZE_INVALID', `${digest}: expected ${expectedSize} bytes, received ${this.received}`);
  }

  private storageError(error: unknown): StorageError {
    return isStorageError(error) ? error : unavailable(`cannot write blob ${this.target.digest}`, error);
  }
}

/** Renames a verified file into place, durably. */
async function moveInto(directories: KnownDirectories, from: string, path: string): Promise<void> {
  const shardDir = dirname(path);
  // A concurrent writer of the same digest may have renamed first: its
  // bytes are verified identical, so replacing them is harmless.
  await directories.retryIfGone(shardDir, () => rename(from, path));
  await syncDirectory(shardDir);
}

/** Links `path` to `existing`; false when `existing` is absent. A `path` already there holds the same verified bytes. */
async function linkOnce(existing: string, path: string): Promise<boolean> {
  try {
    await link(existing, path);
    return true;
  } catch (error) {
    if (isErrno(error, 'EEXIST')) return true;
    if (isErrno(error, 'ENOENT')) return false;
    throw error;
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return false;
    throw error;
  }
}

export function createBlobSink(target: BlobFileTarget): BlobSink {
  const stream = new BlobFileWriter(target);
  const done = new Promise<WriteResult>((resolve, reject) => {
    stream.once('error', reject);
    stream.once('close', () => {
      if (stream.committed !== undefined) resolve(stream.committed);
      else reject(new StorageError('BLOB_UPLOAD_INVALID', `write of ${target.digest} abandoned before its end`));
    });
  });
  // Callers that watch the stream (e.g. through pipeline) need not also await this.
  done.catch(() => undefined);
  return { stream, done };
}
