import { randomUUID } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createBlobSink } from './blob-file-writer.ts';
import { DirectWrites } from './direct-io.ts';
import { fileContent } from './file-content.ts';
import type { BlobContent, BlobInfo, BlobSink, BlobStore, ByteRange, TemporaryTally, WriteResult } from './blob-store.ts';
import { checkedDigest } from './digest.ts';
import { StorageError, unavailable } from './errors.ts';
import { found, unknownBlob } from './unknown-blob.ts';
import { KnownDirectories, isErrno, syncDirectory } from './fs-util.ts';
import { TemporaryArea } from './temporary-area.ts';

/**
 * Blobs live at `<root>/blobs/<algorithm>/<first 2 hex>/<hex>`; writes go
 * through `<root>/tmp` on the same filesystem and are renamed into place once
 * verified, so a blob path either is absent or holds the complete content.
 * Each instance is an owner of partial files in tmp with a heartbeat of its
 * own (see TemporaryArea); `close()` ends it.
 */
export class FilesystemBlobStore implements BlobStore {
  readonly root: string;
  private readonly directories = new KnownDirectories();
  private readonly directWrites: DirectWrites;
  private readonly temporaries: TemporaryArea;

  /** `directIo: false` keeps every write in the page cache (see DirectWrites). */
  constructor(root: string, options: { directIo?: boolean } = {}) {
    this.root = resolve(root);
    this.directWrites = new DirectWrites(options.directIo ?? true);
    this.temporaries = new TemporaryArea(join(this.root, 'tmp'), this.directories);
  }

  async assertWritable(): Promise<void> {
    try {
      for (const dir of ['blobs/sha256', 'blobs/sha512', 'tmp']) await mkdir(join(this.root, dir), { recursive: true });
      const probe = join(this.root, 'tmp', `.probe-${randomUUID()}`);
      const file = await open(probe, 'wx');
      try {
        await file.write('ok');
        await file.sync();
      } finally {
        await file.close();
        // Another process's sweep with no protection time may have taken the probe already.
        await unlink(probe).catch((error: unknown) => {
          if (!isErrno(error, 'ENOENT')) throw error;
        });
      }
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new StorageError('STORAGE_UNAVAILABLE', `storage directory ${this.root} is not writable: ${reason}`, {
        cause: error,
      });
    }
  }

  async lookup(digest: string): Promise<BlobInfo | undefined> {
    const path = this.pathOf(digest);
    try {
      const info = await stat(path);
      return info.isFile() ? { digest, size: info.size } : undefined;
    } catch (error) {
      // Node's fs has no stat that answers "absent" without throwing.
      if (isErrno(error, 'ENOENT')) return undefined;
      throw unavailable(`cannot stat blob ${digest}`, error);
    }
  }

  async stat(digest: string): Promise<BlobInfo> {
    return found(await this.lookup(digest), digest);
  }

  async exists(digest: string): Promise<boolean> {
    return (await this.lookup(digest)) !== undefined;
  }

  /** An `end` past the last byte reads to the last byte, as HTTP ranges do; a `start` past it is RANGE_INVALID. */
  async open(digest: string, range?: ByteRange): Promise<BlobContent> {
    const file = await this.openFile(digest);
    try {
      const { size } = await file.stat();
      const { offset, length } = resolveRange(digest, size, range);
      return fileContent(digest, file, size, offset, length);
    } catch (error) {
      await file.close();
      throw error instanceof StorageError ? error : unavailable(`cannot read blob ${digest}`, error);
    }
  }

  /** Takes the source: it is consumed or destroyed whatever the outcome. */
  async put(digest: string, source: Readable, expectedSize?: number): Promise<WriteResult> {
    let sink: BlobSink;
    try {
      sink = this.createWriteStream(digest, expectedSize);
    } catch (error) {
      source.destroy();
      throw error;
    }
    // The sink's own result says what happened, including a failing source.
    pipeline(source, sink.stream).catch(() => undefined);
    return sink.done;
  }

  createWriteStream(digest: string, expectedSize?: number): BlobSink {
    const { algorithm, encoded } = checkedDigest(digest);
    if (expectedSize !== undefined && !(Number.isSafeInteger(expectedSize) && expectedSize >= 0)) {
      throw new StorageError('SIZE_INVALID', `invalid expected size ${expectedSize} for ${digest}`);
    }
    const path = this.blobPath(algorithm, encoded);
    return createBlobSink({
      digest,
      algorithm,
      encoded,
      path,
      pathOf: (a, h) => this.blobPath(a, h),
      temporaries: this.temporaries,
      expectedSize,
      directories: this.directories,
      directWrites: this.directWrites,
    });
  }

  async delete(digest: string): Promise<void> {
    const path = this.pathOf(digest);
    try {
      await unlink(path);
      await syncDirectory(dirname(path));
    } catch (error) {
      if (isErrno(error, 'ENOENT')) throw unknownBlob(digest);
      throw unavailable(`cannot delete blob ${digest}`, error);
    }
  }

  async sweepTemporary({ olderThanMs, dryRun = false }: { olderThanMs: number; dryRun?: boolean }): Promise<TemporaryTally> {
    try {
      return await this.temporaries.sweep(olderThanMs, dryRun);
    } catch (error) {
      throw unavailable(`cannot sweep ${this.temporaries.dir}`, error);
    }
  }

  async temporaryUsage(): Promise<TemporaryTally> {
    try {
      return await this.temporaries.usage();
    } catch (error) {
      throw unavailable(`cannot list ${this.temporaries.dir}`, error);
    }
  }

  /** Ends this owner's heartbeat (its partial files are then another process's to sweep). Writing again starts a new one. */
  async close(): Promise<void> {
    await this.temporaries.close();
  }

  private pathOf(digest: string): string {
    const { algorithm, encoded } = checkedDigest(digest);
    return this.blobPath(algorithm, encoded);
  }

  private blobPath(algorithm: string, encoded: string): string {
    return join(this.root, 'blobs', algorithm, encoded.slice(0, 2), encoded);
  }

  private async openFile(digest: string): Promise<FileHandle> {
    const path = this.pathOf(digest);
    try {
      return await open(path, 'r');
    } catch (error) {
      if (isErrno(error, 'ENOENT')) throw unknownBlob(digest);
      throw unavailable(`cannot open blob ${digest}`, error);
    }
  }
}

function resolveRange(digest: string, size: number, range: ByteRange | undefined): { offset: number; length: number } {
  if (range === undefined) return { offset: 0, length: size };
  const { start, end } = range;
  const valid = Number.isSafeInteger(start) && start >= 0 && start < size && (end === undefined || (Number.isSafeInteger(end) && end >= start));
  if (!valid) {
    throw new StorageError('RANGE_INVALID', `range ${start}-${end ?? ''} is not satisfiable for ${digest} of ${size} bytes`);
  }
  const last = end === undefined ? size - 1 : Math.min(end, size - 1);
  return { offset: start, length: last - start + 1 };
}
