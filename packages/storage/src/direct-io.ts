import { constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { open, unlink } from 'node:fs/promises';
import { inSlab } from './buffer-pool.ts';
import { isErrno } from './fs-util.ts';

/**
 * Large blobs are written with O_DIRECT, from the pooled buffers straight to
 * the disk, skipping the page-cache copy and the writeback after it. On this
 * project's VMs every new page-cache page costs a hypervisor fault: writing
 * 1 GB took 2.2-2.5 s of system CPU buffered and 0.09 s direct (dd), and a
 * 200-tag sync spent more CPU in those copies than in hashing. A mirror rarely
 * reads a blob just written, so the cache is not missed.
 *
 * One per store: once its filesystem refuses O_DIRECT (EINVAL, at open or at
 * a write), the store writes through the page cache.
 */
export class DirectWrites {
  private supported: boolean;

  /**
   * `wanted: false` where O_DIRECT is supported but slow: on NFS, say, each
   * direct write is a synchronous round trip to the server.
   */
  constructor(wanted: boolean) {
    this.supported = wanted && constants.O_DIRECT !== undefined;
  }

  /** Creates `path` for direct writes, or answers undefined where they are not possible. */
  async create(path: string): Promise<FileHandle | undefined> {
    if (!this.supported) return undefined;
    try {
      return await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_DIRECT);
    } catch (error) {
      if (!this.refused(error)) throw error;
      // Linux creates the file before it checks the flag.
      await unlink(path).catch(() => undefined);
      return undefined;
    }
  }

  /**
   * Writes `bytes` at `position` through a direct descriptor, answering the
   * count written, or undefined when O_DIRECT cannot take them (then write
   * them through the page cache).
   */
  async write(file: FileHandle, bytes: Buffer, position: number): Promise<number | undefined> {
    if (!(this.supported && isDirectWritable(bytes, position))) return undefined;
    try {
      return (await file.write(bytes, 0, bytes.length, position)).bytesWritten;
    } catch (error) {
      // Nothing was written: the alignment is checked before any byte moves.
      if (!this.refused(error)) throw error;
      return undefined;
    }
  }

  /** EINVAL: this filesystem cannot do O_DIRECT (or not with this alignment); not asked again. */
  private refused(error: unknown): boolean {
    if (!isErrno(error, 'EINVAL')) return false;
    this.supported = false;
    return true;
  }
}

/** 4096 covers the 512- and 4096-byte logical blocks of common disks; a filesystem wanting more answers EINVAL. */
const ALIGNMENT = 4096;

function isDirectWritable(bytes: Buffer, position: number): boolean {
  return inSlab(bytes) && bytes.byteOffset % ALIGNMENT === 0 && bytes.length % ALIGNMENT === 0 && position % ALIGNMENT === 0;
}
