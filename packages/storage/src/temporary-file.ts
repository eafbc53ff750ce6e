import type { FileHandle } from 'node:fs/promises';
import { open, unlink } from 'node:fs/promises';
import type { DirectWrites } from './direct-io.ts';

/**
 * The file a blob is written to before it is verified and renamed into place.
 * Writes name their position. On a direct file, what O_DIRECT takes goes
 * straight to the disk and the rest (the tail, a buffer from outside the
 * aligned pool) through a second, buffered descriptor opened when first needed.
 */
export class TemporaryFile {
  private buffered: Promise<FileHandle> | undefined;
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly file: FileHandle,
    private readonly directWrites: DirectWrites | undefined,
  ) {}

  /** Creates `path`, which must not exist; with `directWrites`, for O_DIRECT where the filesystem allows it. */
  static async create(path: string, directWrites?: DirectWrites): Promise<TemporaryFile> {
    const direct = await directWrites?.create(path);
    if (direct !== undefined) return new TemporaryFile(path, direct, directWrites);
    return new TemporaryFile(path, await open(path, 'wx'), undefined);
  }

  /** Whether the file was opened with O_DIRECT: then batches should come from `takeAlignedBuffer()`. */
  get isDirect(): boolean {
    return this.directWrites !== undefined;
  }

  /** Writes every byte of `bytes` at `position`, resuming after short writes. */
  async write(bytes: Buffer, position: number): Promise<void> {
    for (let done = 0; done < bytes.length;) {
      const rest = bytes.subarray(done);
      const direct = await this.directWrites?.write(this.file, rest, position + done);
      done += direct ?? (await this.writeBuffered(rest, position + done));
    }
  }

  /** Makes what was written durable. fsync is per file, not per descriptor: one covers both. */
  async sync(): Promise<void> {
    await this.file.sync();
  }

  /** Closes both descriptors, and reports the first failure once both were tried. */
  async close(): Promise<void> {
    this.closed = true;
    const results = await Promise.allSettled([this.file.close(), this.buffered?.then((file) => file.close())]);
    const failed = results.find((result) => result.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }

  /** Closes and deletes the file, whatever state it is in; never fails. */
  async remove(): Promise<void> {
    await this.close().catch(() => undefined);
    await unlink(this.path).catch(() => undefined);
  }

  private async writeBuffered(bytes: Buffer, position: number): Promise<number> {
    // A write still running when the file is closed must not open a descriptor nothing would close.
    if (this.closed) throw new Error(`${this.path} is closed`);
    const file = this.directWrites === undefined ? this.file : await (this.buffered ??= open(this.path, 'r+'));
    return (await file.write(bytes, 0, bytes.length, position)).bytesWritten;
  }
}
