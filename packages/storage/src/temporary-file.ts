import type { FileHandle } from 'node:fs/promises';
import { open, unlink } from 'node:fs/promises';
import { DIRECT_IO_ALIGNMENT, isAlignedForDirectIo } from './buffer-pool.ts';
import type { DirectWrites } from './direct-io.ts';

/**
 * The file a blob is written to before it is verified and renamed into place.
 * Writes name their position. With O_DIRECT, whole blocks from aligned memory
 * go straight to the disk and anything else (the tail, a buffer from outside
 * the pool) through a second, buffered descriptor opened when first needed.
 */
export class TemporaryFile {
  private buffered: Promise<FileHandle> | undefined;

  private constructor(
    readonly path: string,
    private readonly file: FileHandle,
    private readonly direct: boolean,
  ) {}

  /** Creates `path`, which must not exist; with `directWrites`, for O_DIRECT where the filesystem allows it. */
  static async create(path: string, directWrites?: DirectWrites): Promise<TemporaryFile> {
    const direct = await directWrites?.create(path);
    if (direct !== undefined) return new TemporaryFile(path, direct, true);
    return new TemporaryFile(path, await open(path, 'wx'), false);
  }

  /** Writes every byte of `bytes` at `position`, resuming after short writes. */
  async write(bytes: Buffer, position: number): Promise<void> {
    const file = await this.handleFor(bytes, position);
    for (let done = 0; done < bytes.length; ) {
      const { bytesWritten } = await file.write(bytes, done, bytes.length - done, position + done);
      done += bytesWritten;
    }
  }

  /** Makes what was written durable. fsync is per file, not per descriptor: one covers both. */
  async sync(): Promise<void> {
    await this.file.sync();
  }

  /** Closes both descriptors, and reports the first failure once both were tried. */
  async close(): Promise<void> {
    const results = await Promise.allSettled([this.file.close(), this.buffered?.then((file) => file.close())]);
    const failed = results.find((result) => result.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }

  /** Closes and deletes the file, whatever state it is in; never fails. */
  async remove(): Promise<void> {
    await this.close().catch(() => undefined);
    await unlink(this.path).catch(() => undefined);
  }

  private handleFor(bytes: Buffer, position: number): FileHandle | Promise<FileHandle> {
    const directable = isAlignedForDirectIo(bytes) && bytes.length % DIRECT_IO_ALIGNMENT === 0 && position % DIRECT_IO_ALIGNMENT === 0;
    if (!this.direct || directable) return this.file;
    this.buffered ??= open(this.path, 'r+');
    return this.buffered;
  }
}
