import { createHash, randomUUID } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import type { BlobSink, WriteResult } from './blob-store.ts';
import type { ParsedDigest } from './digest.ts';
import { StorageError, isStorageError, unavailable } from './errors.ts';
import { isErrno, syncDirectory, syncNewDirectories, writeAll } from './fs-util.ts';

export interface BlobFileTarget extends ParsedDigest {
  readonly digest: string;
  /** Where the verified blob ends up. */
  readonly path: string;
  /** Same filesystem as `path`, so that the final rename is atomic. */
  readonly tmpDir: string;
  readonly expectedSize: number | undefined;
}

/**
 * A sink that hashes what it is given while writing it to a temporary file,
 * and on `end()` verifies size and digest, fsyncs and renames the file into
 * place. 'finish' therefore means the blob is durably stored. On any failure,
 * or on `destroy()`, the temporary file is removed before 'error' / 'close'.
 * When the blob is already stored the bytes are verified and discarded.
 */
class BlobFileWriter extends Writable {
  committed: WriteResult | undefined;
  private readonly hash;
  private file: FileHandle | undefined;
  private tmpPath: string | undefined;
  private received = 0;

  constructor(private readonly target: BlobFileTarget) {
    super();
    this.hash = createHash(target.algorithm);
  }

  override _construct(callback: (error?: Error | null) => void): void {
    this.prepare().then(() => callback(), (error: unknown) => callback(this.storageError(error)));
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.take([chunk], callback);
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    this.take(
      chunks.map((c) => c.chunk),
      callback,
    );
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.commit().then(() => callback(), (error: unknown) => callback(this.storageError(error)));
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const { file, tmpPath } = this;
    this.file = undefined;
    this.tmpPath = undefined;
    void removeTemporary(file, tmpPath).then(() => callback(error));
  }

  private async prepare(): Promise<void> {
    if (await isFile(this.target.path)) return; // already stored: verify only
    await mkdir(this.target.tmpDir, { recursive: true });
    const tmpPath = join(this.target.tmpDir, `${this.target.hex.slice(0, 16)}.${randomUUID()}`);
    this.file = await open(tmpPath, 'wx');
    this.tmpPath = tmpPath;
  }

  private take(buffers: Buffer[], callback: (error?: Error | null) => void): void {
    for (const buffer of buffers) this.received += buffer.length;
    const { expectedSize } = this.target;
    if (expectedSize !== undefined && this.received > expectedSize) {
      callback(this.sizeError());
      return;
    }
    // Start the write first: the thread pool writes while this thread hashes.
    const written = this.file === undefined ? Promise.resolve() : writeAll(this.file, buffers);
    for (const buffer of buffers) this.hash.update(buffer);
    written.then(() => callback(), (error: unknown) => callback(this.storageError(error)));
  }

  private async commit(): Promise<void> {
    const { digest, algorithm, path, expectedSize } = this.target;
    if (expectedSize !== undefined && this.received !== expectedSize) throw this.sizeError();
    const actual = `${algorithm}:${this.hash.digest('hex')}`;
    if (actual !== digest) {
      throw new StorageError('DIGEST_MISMATCH', `content of ${digest} hashes to ${actual}`);
    }
    const { file, tmpPath } = this;
    if (file !== undefined && tmpPath !== undefined) {
      await file.sync();
      this.file = undefined;
      await file.close();
      const shardDir = dirname(path);
      const firstCreated = await mkdir(shardDir, { recursive: true });
      // A concurrent writer of the same digest may have renamed first: its
      // bytes are verified identical, so replacing them is harmless.
      await rename(tmpPath, path);
      this.tmpPath = undefined;
      await syncDirectory(shardDir);
      await syncNewDirectories(shardDir, firstCreated);
    }
    this.committed = { digest, size: this.received, created: file !== undefined };
  }

  private sizeError(): StorageError {
    const { digest, expectedSize } = this.target;
    return new StorageError('SIZE_INVALID', `${digest}: expected ${expectedSize} bytes, received ${this.received}`);
  }

  private storageError(error: unknown): StorageError {
    return isStorageError(error) ? error : unavailable(`cannot write blob ${this.target.digest}`, error);
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

async function removeTemporary(file: FileHandle | undefined, tmpPath: string | undefined): Promise<void> {
  await file?.close().catch(() => undefined);
  if (tmpPath !== undefined) await unlink(tmpPath).catch(() => undefined);
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
