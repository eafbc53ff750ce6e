import { randomUUID } from 'node:crypto';
import type { HeldLock, ResourceLocks } from './resource-lock.ts';

/** How one caller of `coalesce` finds, does, or waits for the work on a resource. */
export interface Coalesced<T> {
  /** The result when the work is already done (by anyone, in any process); undefined while it is not. */
  ready(): Promise<T | undefined>;
  /**
   * Does the work holding `lock`, and releases it once the work is done; the
   * lock may outlive the returned promise (a download streamed to the client
   * goes on after its first byte).
   */
  work(lock: HeldLock): Promise<T>;
  /** Told once, the first time this caller waits on another holder instead of working. */
  onWait?(): void;
  /** How often a waiter looks whether the holder is gone (ms). */
  pollMs: number;
  /** Longest wait for other holders, all attempts together (ms). */
  timeoutMs: number;
  /** The rejection of a caller that waited `timeoutMs`. */
  timedOut(): Error;
}

/**
 * One holder works, the others wait: across every process on one Redis, the
 * caller that takes the lock on `resource` asks `ready` again (the work may
 * have been done between its miss and the lock) and otherwise does the work;
 * every other caller waits until the lock is free, then takes the result
 * with `ready`, or, when there is none (the holder failed or died), tries to
 * take the lock itself. Rejects with the work's error, `timedOut()`, or
 * REDIS_UNAVAILABLE from the locks.
 */
export async function coalesce<T>(locks: ResourceLocks, resource: string, c: Coalesced<T>): Promise<T> {
  const deadline = Date.now() + c.timeoutMs;
  let waited = false;
  for (;;) {
    const lock = await locks.acquire(resource, randomUUID());
    if (lock) {
      let done: T | undefined;
      try {
        done = await c.ready();
      } catch (error) {
        await lock.release().catch(() => undefined);
        throw error;
      }
      if (done !== undefined) {
        await lock.release().catch(() => undefined);
        return done;
      }
      return c.work(lock);
    }
    if (!waited) c.onWait?.();
    waited = true;
    while ((await locks.holder(resource)) !== null) {
      if (Date.now() > deadline) throw c.timedOut();
      await new Promise((resolve) => setTimeout(resolve, c.pollMs));
    }
    const done = await c.ready();
    if (done !== undefined) return done;
  }
}
