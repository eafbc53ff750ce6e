/**
 * One sync's concurrent work: the first failure aborts `signal` so the rest
 * stops at its next step, and `settle` waits for everything before it throws
 * that failure, so nothing of a failed sync is still running when it reports.
 */
export class FailFast {
  private readonly controller = new AbortController();
  private first: { error: unknown } | undefined;
  readonly signal: AbortSignal;

  constructor(parent: AbortSignal) {
    this.signal = AbortSignal.any([parent, this.controller.signal]);
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

  /** Waits for all of `works`, then throws the first failure seen so far, if any. */
  async settle(works: Iterable<Promise<unknown>>): Promise<void> {
    await Promise.all([...works].map((work) => this.guard(work)));
    this.rethrow();
  }

  rethrow(): void {
    if (this.first) throw this.first.error;
  }

  /** Throws at the start of a step once the sync is stopping. */
  check(): void {
    if (this.signal.aborted) throw this.signal.reason;
  }
}
