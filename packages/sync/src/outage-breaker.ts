import { isUpstreamError } from '@cistern/upstream';

/** Upstream failures in a row, with no success between them, after which the upstream is asked whether it is up. */
const OUTAGE_RUN = 10;

/**
 * Tells failing manifests or blobs from an upstream that is down. Each failure
 * is skipped on its own, but after OUTAGE_RUN connection failures or 5xx
 * answers in a row (each already retried) the upstream is probed (`GET /v2/`):
 * when the probe fails too, the sync stops with the last failure, which is
 * retryable, instead of spending every remaining tag's retries on an outage;
 * when it answers, the run starts over (a cluster of broken manifests on a
 * live registry stays a set of skips).
 */
export class OutageBreaker {
  private run = 0;

  /** `probe` resolves when the upstream answers at all. */
  constructor(private readonly probe: () => Promise<void>) {}

  succeeded(): void {
    this.run = 0;
  }

  /** Counts a failure; throws it once the run is long and the probe fails too. */
  async failed(error: unknown): Promise<void> {
    if (!isUpstreamError(error, 'UPSTREAM_UNAVAILABLE')) return;
    this.run += 1;
    if (this.run < OUTAGE_RUN) return;
    this.run = 0;
    const down = await this.probe().then(
      () => false,
      () => true,
    );
    if (down) throw error;
  }
}
