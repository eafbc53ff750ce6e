import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';

export function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}

/** Makes a directory's entries (a rename, an unlink) durable. */
export async function syncDirectory(path: string): Promise<void> {
  const dir = await open(path, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/**
 * After `mkdir(leaf, { recursive: true })` returned `firstCreated`, makes each
 * new directory's entry durable in its parent.
 */
async function syncNewDirectories(leaf: string, firstCreated: string | undefined): Promise<void> {
  if (firstCreated === undefined) return;
  const stop = dirname(firstCreated);
  for (let dir = leaf; dir !== stop;) {
    dir = dirname(dir);
    await syncDirectory(dir);
  }
}

/**
 * The directories a store has made sure of, each created (and its entry made
 * durable) once per process instead of once per blob: every fs call is a round
 * trip through the thread pool. One removed behind the store's back is
 * recreated when an operation in it fails with ENOENT.
 */
export class KnownDirectories {
  private readonly ready = new Map<string, Promise<void>>();

  /** Settles once `dir` exists and its creation is durable; concurrent callers share one mkdir. */
  ensure(dir: string): Promise<void> {
    const known = this.ready.get(dir);
    if (known !== undefined) return known;
    // The parent's entry is synced even when `dir` already existed: another process
    // may have created it and died before making that entry durable.
    const ready = mkdir(dir, { recursive: true }).then((firstCreated) => syncNewDirectories(dir, firstCreated ?? dir));
    // A failure is not remembered: the next blob tries again.
    ready.catch(() => {
      if (this.ready.get(dir) === ready) this.ready.delete(dir);
    });
    this.ready.set(dir, ready);
    return ready;
  }

  /** Runs `operation` on an entry of `dir` once `dir` exists, again after recreating `dir` if it vanished. */
  async retryIfGone<T>(dir: string, operation: () => Promise<T>): Promise<T> {
    await this.ensure(dir);
    try {
      return await operation();
    } catch (error) {
      if (!isErrno(error, 'ENOENT')) throw error;
      this.ready.delete(dir);
      await this.ensure(dir);
      return operation();
    }
  }
}
