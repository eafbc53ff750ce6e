import { setMaxListeners } from 'node:events';

/**
 * One sync's concurrent work: the first failure aborts `signal` so the rest
 * stops at its next step, and `each` waits for everything it started before
 * it throws that failure, so nothing of a failed sync is still running when
 * it reports.
 */
export class FailFast {
  private readonly controller = new AbortController();
  private first: { error: unknown } | undefined;
  readonly signal: AbortSignal;

  constructor(parent: AbortSignal) {
    this.signal = AbortSignal.any([parent, this.controller.signal]);
    // Every request in flight listens to it: as many as the remote's bounded pools allow, not a leak (Node warns past 10).
    setMaxListeners(0, this.signal);
  }

  /** Records a failure instead of rejecting; the first one stops the rest. */
  guard(work: Promise<unknown>): Promise<void> {
    return work.then(
      () => undefined,
      (error: unknown) => {
        this.first ??= { error };
        this.controller.abort();
      },
    );
  }

  /**
   * Runs `work` on every item with at most `concurrency` at once, pulling items
   * lazily (a million tags never become a million promises), and stops pulling
   * once the sync is stopping. Waits for what runs, then throws the first failure.
   */
  async each<T>(items: Iterable<T> | AsyncIterable<T>, concurrency: number, work: (item: T) => Promise<unknown>): Promise<void> {
    const iterator = Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : items[Symbol.iterator]();
    const runner = async (): Promise<void> => {
      while (!this.signal.aborted) {
        let next: IteratorResult<T>;
        try {
          next = await iterator.next();
        } catch (error) {
          await this.guard(Promise.reject(error));
          return;
        }
        if (next.done) return;
        await this.guard(work(next.value));
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.max(1, concurrency) }, runner));
    } finally {
      // Stopped early: let the source close what it holds (a tag list's response body).
      await iterator.return?.();
    }
    this.rethrow();
    // Stopped by the parent (a cancel) with no failure of its own: the caller must not take a partial result.
    this.check();
  }

  rethrow(): void {
    if (this.first) throw this.first.error;
  }

  /** Throws at the start of a step once the sync is stopping. */
  check(): void {
    if (this.signal.aborted) throw this.signal.reason;
  }
}
