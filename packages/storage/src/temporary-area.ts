import { randomUUID } from 'node:crypto';
import type { Dirent, Stats } from 'node:fs';
import { lstat, opendir, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { TemporaryTally } from './blob-store.ts';
import type { DirectWrites } from './direct-io.ts';
import { type KnownDirectories, isErrno } from './fs-util.ts';
import { OWNER_PATTERN, OWNER_STALE_MS, OwnerHeartbeat } from './owner-heartbeat.ts';
import { TemporaryFile } from './temporary-file.ts';

/** `<owner>.<first 16 hex of the digest>.<uuid>`; the owner is the first group. */
const TEMPORARY_NAME = new RegExp(`^(${OWNER_PATTERN})\\.[0-9a-f]{16}\\.[0-9a-f-]{36}$`);

/** Heartbeats live in `<tmp>/owners`, a directory: the sweep, which takes only regular files of tmp, never sees them as partial files. */
const OWNERS_DIR = 'owners';

/** A dead owner's heartbeat is kept this long (ms) past staleness, so an operator can still tell which host and process left a partial file. */
const DEAD_HEARTBEAT_KEPT_MS = 60 * 60_000;

/** Files inspected or unlinked at once by a sweep: a large tmp must not queue thousands of calls on libuv's few threads. */
const SWEEP_CONCURRENCY = 8;

/**
 * A store's `tmp` directory: where blobs are written before they are
 * verified, named after the owner writing them, and the sweep that removes
 * what writers killed mid-write (SIGKILL, a crash, a lost machine) left there.
 * A file is held, and never swept, while its writer is known to be alive:
 * this owner's files while open here; another owner's while its heartbeat is
 * fresher than OWNER_STALE_MS.
 */
export class TemporaryArea {
  private readonly heartbeat: OwnerHeartbeat;
  /** Names of this owner's files being written now. */
  private readonly open = new Set<string>();

  constructor(
    readonly dir: string,
    private readonly directories: KnownDirectories,
  ) {
    this.heartbeat = new OwnerHeartbeat(join(dir, OWNERS_DIR));
  }

  /**
   * Creates the file a blob of `encoded` (the digest's hex) is written to, held
   * until `release`. The heartbeat is on disk before the file exists, so no
   * other process's sweep ever finds the file without a live owner.
   */
  async create(encoded: string, directWrites?: DirectWrites): Promise<TemporaryFile> {
    await this.heartbeat.start();
    const name = `${this.heartbeat.owner}.${encoded.slice(0, 16)}.${randomUUID()}`;
    // Held before it exists: a sweep that finds the file finds it held.
    this.open.add(name);
    try {
      return await this.directories.retryIfGone(this.dir, () => TemporaryFile.create(join(this.dir, name), directWrites));
    } catch (error) {
      this.open.delete(name);
      throw error;
    }
  }

  /** Call once `file` is renamed into place or removed. */
  release(file: TemporaryFile): void {
    this.open.delete(basename(file.path));
  }

  /** See BlobStore.sweepTemporary. */
  async sweep(olderThanMs: number, dryRun: boolean): Promise<TemporaryTally> {
    const now = await this.heartbeat.now();
    const liveness = new Map<string, Promise<boolean>>();
    const isLive = (owner: string): Promise<boolean> => {
      let live = liveness.get(owner);
      if (live === undefined) liveness.set(owner, (live = this.isLive(owner, now)));
      return live;
    };
    const removed = { files: 0, bytes: 0 };
    await eachRegularFile(this.dir, async (path, stats) => {
      if (now - stats.mtimeMs < olderThanMs || (await this.isHeld(basename(path), isLive, now - stats.mtimeMs))) return;
      if (!dryRun && !(await removeIfPresent(path))) return;
      removed.files += 1;
      removed.bytes += stats.size;
    });
    if (dryRun) return removed;
    await eachRegularFile(this.heartbeat.dir, async (path, stats) => {
      if (basename(path) !== this.heartbeat.owner && now - stats.mtimeMs > OWNER_STALE_MS + DEAD_HEARTBEAT_KEPT_MS) await removeIfPresent(path);
    });
    return removed;
  }

  /** See BlobStore.temporaryUsage. */
  async usage(): Promise<TemporaryTally> {
    const usage = { files: 0, bytes: 0 };
    await eachRegularFile(this.dir, async (_path, stats) => {
      usage.files += 1;
      usage.bytes += stats.size;
    });
    return usage;
  }

  /** Stops the heartbeat and removes it. */
  close(): Promise<void> {
    return this.heartbeat.stop();
  }

  /**
   * Whether a live writer may still be writing `name`. A name of no owner (an
   * older version's, mid rolling upgrade, or a stray file) tells nothing of its
   * writer: it counts as held while written in the last OWNER_STALE_MS.
   */
  private async isHeld(name: string, isLive: (owner: string) => Promise<boolean>, ageMs: number): Promise<boolean> {
    const owner = TEMPORARY_NAME.exec(name)?.[1];
    if (owner === undefined) return ageMs <= OWNER_STALE_MS;
    if (owner === this.heartbeat.owner) return this.open.has(name);
    return isLive(owner);
  }

  private async isLive(owner: string, now: number): Promise<boolean> {
    try {
      const stats = await lstat(join(this.heartbeat.dir, owner));
      return stats.isFile() && now - stats.mtimeMs <= OWNER_STALE_MS;
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return false;
      throw error;
    }
  }
}

/**
 * Calls `visit` with each regular file directly in `dir` and its lstat,
 * SWEEP_CONCURRENCY at a time. Streams the directory (it may hold many
 * entries), never follows a symbolic link, skips entries gone meanwhile and
 * answers nothing for a `dir` that does not exist. Rejects with the first
 * failure, once the visits already started are over.
 */
async function eachRegularFile(dir: string, visit: (path: string, stats: Stats) => Promise<void>): Promise<void> {
  let entries: AsyncIterable<Dirent>;
  try {
    entries = await opendir(dir);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return;
    throw error;
  }
  const running = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  const inspect = async (path: string) => {
    const stats = await lstat(path).catch((error: unknown) => {
      if (isErrno(error, 'ENOENT')) return undefined;
      throw error;
    });
    if (stats?.isFile()) await visit(path, stats);
  };
  // Breaking out of the loop closes the directory.
  for await (const entry of entries) {
    if (failure !== undefined) break;
    if (!entry.isFile()) continue;
    const task: Promise<void> = inspect(join(dir, entry.name))
      .catch((error: unknown) => void (failure ??= { error }))
      .finally(() => running.delete(task));
    running.add(task);
    if (running.size >= SWEEP_CONCURRENCY) await Promise.race(running);
  }
  await Promise.all(running);
  if (failure !== undefined) throw failure.error;
}

/** Unlinks `path`; false when it was already gone (renamed into place, or removed by another sweep). */
async function removeIfPresent(path: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return false;
    throw error;
  }
}
