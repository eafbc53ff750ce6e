import { isUpstreamError } from '@cistern/upstream';

/** Upstream failures in a row, with no success between them, that mean the upstream is down. */
const OUTAGE_RUN = 10;

/**
 * Tells one failing manifest or blob from an upstream that is down. Each
 * failure is skipped on its own, but after OUTAGE_RUN connection failures or
 * 5xx answers in a row (each already retried) the sync stops with the last one,
 * which is retryable, instead of spending every remaining tag's retries on an
 * outage and completing with nothing.
 */
export class OutageBreaker {
  private run = 0;

  succeeded(): void {
    this.run = 0;
  }

  /** Counts a failure; throws it once the run says the upstream is down. */
  failed(error: unknown): void {
    if (!isUpstreamError(error, 'UPSTREAM_UNAVAILABLE')) return;
    this.run += 1;
    if (this.run >= OUTAGE_RUN) throw error;
  }
}
