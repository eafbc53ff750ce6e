import { constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { open, unlink } from 'node:fs/promises';
import { isErrno } from './fs-util.ts';

/**
 * Large blobs are written with O_DIRECT, from the pooled buffers straight to
 * the disk, skipping the page-cache copy and the writeback after it. On this
 * project's VMs every new page-cache page costs a hypervisor fault: writing
 * 1 GB took 2.2-2.5 s of system CPU buffered and 0.09 s direct (dd), and a
 * 200-tag sync spent more CPU in those copies than in hashing. A mirror rarely
 * reads a blob just written, so the cache is not missed.
 *
 * One per store: a filesystem that refuses O_DIRECT is asked only once.
 */
export class DirectWrites {
  private supported = constants.O_DIRECT !== undefined;

  /** Creates `path` for direct writes, or answers undefined where the filesystem cannot do them. */
  async create(path: string): Promise<FileHandle | undefined> {
    if (!this.supported) return undefined;
    try {
      return await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_DIRECT);
    } catch (error) {
      if (!isErrno(error, 'EINVAL')) throw error;
      this.supported = false;
      // Linux creates the file before it checks the flag.
      await unlink(path).catch(() => undefined);
      return undefined;
    }
  }
}
