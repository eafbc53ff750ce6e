import { randomBytes } from 'node:crypto';
import { lstat, mkdir, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { isErrno } from './fs-util.ts';

/** How often an owner rewrites its heartbeat, in milliseconds. */
const HEARTBEAT_INTERVAL_MS = 10_000;

/** An owner whose heartbeat is older than this (ms), three beats missed, is taken for dead. */
export const OWNER_STALE_MS = 3 * HEARTBEAT_INTERVAL_MS;

/** Owner ids are 12 lowercase hex characters: short, and never containing the '.' that separates a temporary name's parts. */
export const OWNER_PATTERN = '[0-9a-f]{12}';

/**
 * Tells every process sharing a store, on this machine or another over a
 * network filesystem, that one store instance (its "owner", a random id per
 * process start) is alive: the file `<dir>/<owner>`, rewritten every 10 s.
 * Rewritten rather than touched with utimes: a write makes the filesystem
 * stamp the mtime with its own clock, which `now()` also reads, so ages are
 * compared on one clock whatever the machines' clocks say.
 */
export class OwnerHeartbeat {
  readonly owner = randomBytes(6).toString('hex');
  private readonly path: string;
  private started: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The write in progress: `stop()` waits for it, or it would recreate the file just removed. */
  private beating: Promise<void> = Promise.resolve();

  constructor(readonly dir: string) {
    this.path = join(dir, this.owner);
  }

  /**
   * Writes the first beat and starts beating; settles once that beat is on
   * disk (rejects, and is tried again on the next call, when it cannot be
   * written). Later calls share it. The timer never keeps a process alive.
   */
  start(): Promise<void> {
    if (this.started !== undefined) return this.started;
    const started = this.beat().then(() => {
      this.timer = setInterval(() => void this.beat().catch(() => undefined), HEARTBEAT_INTERVAL_MS);
      this.timer.unref();
    });
    started.catch(() => {
      if (this.started === started) this.started = undefined;
    });
    this.started = started;
    return started;
  }

  /** The filesystem's time now, in milliseconds since the epoch: the mtime of a fresh beat. Starts beating. */
  async now(): Promise<number> {
    await this.start();
    await this.beat();
    return (await lstat(this.path)).mtimeMs;
  }

  /** Stops beating and removes the heartbeat: the owner is gone. A later `start()` begins again. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.started = undefined;
    await this.beating.catch(() => undefined);
    await unlink(this.path).catch((error: unknown) => {
      if (!isErrno(error, 'ENOENT')) throw error;
    });
  }

  private beat(): Promise<void> {
    const beat = this.beating
      .catch(() => undefined)
      .then(async () => {
        // mkdir each time (one cheap call per beat): the directory may have been removed behind the store's back.
        await mkdir(this.dir, { recursive: true });
        await writeFile(this.path, `${hostname()} ${process.pid}\n`);
      });
    this.beating = beat;
    return beat;
  }
}
