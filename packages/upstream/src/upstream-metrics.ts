import { metricsRegistry, statusClass } from '@cistern/metrics';
import { Counter, Gauge } from 'prom-client';
import type { RequestKind } from './errors.ts';
import type { RateLimitInfo } from './rate-limit.ts';

/** The `kind` label: what a request was for (a ping of `/v2/` is `other`). */
type MetricKind = 'token' | 'tags' | 'manifest' | 'blob' | 'referrers' | 'catalog' | 'other';

const metricKind = (kind: RequestKind): MetricKind => (kind === 'ping' ? 'other' : kind);

const requests = new Counter({
  name: 'cistern_upstream_requests_total',
  help: 'HTTP requests sent to upstream registries and their token realms, each redirect hop one request, by remote, kind and status class',
  labelNames: ['remote', 'kind', 'status_class'] as const,
  registers: [metricsRegistry],
});

const retries = new Counter({
  name: 'cistern_upstream_retries_total',
  help: 'Upstream requests or transfers sent again after a failure (5xx, 429, network error, a body cut off or not matching its digest)',
  labelNames: ['remote', 'kind'] as const,
  registers: [metricsRegistry],
});

/** How long a reading without a window (`w=`) is exported: Docker Hub's own window, the longest in common use. */
const UNWINDOWED_READING_MS = 6 * 60 * 60 * 1000;

/**
 * When each remote's rate-limit reading stops saying anything (its window
 * has passed since, so the quota has been renewed), in epoch ms. One entry
 * per remote this process talked to: bounded by the remotes.
 */
const readingEnds = new Map<string, number>();

/**
 * Drops the series of the readings whose window has passed: a worker that no
 * longer talks to a remote (or a remote deleted or renamed) would otherwise
 * export its last `remaining` for ever. Run at collect time by both gauges,
 * so no timer is kept per remote.
 */
function dropEndedReadings(): void {
  const now = Date.now();
  for (const [remote, end] of readingEnds) {
    if (end > now) continue;
    readingEnds.delete(remote);
    rateLimitRemaining.remove({ remote });
    rateLimitLimit.remove({ remote });
  }
}

const rateLimitRemaining = new Gauge({
  name: 'cistern_upstream_rate_limit_remaining',
  help: "Requests left in the upstream's rate-limit window, as its RateLimit headers last said (Docker Hub: ratelimit-remaining); gone once that window has passed (6 h without one)",
  labelNames: ['remote'] as const,
  registers: [metricsRegistry],
  collect: dropEndedReadings,
});

const rateLimitLimit = new Gauge({
  name: 'cistern_upstream_rate_limit_limit',
  help: 'Requests the upstream allows per rate-limit window, as its RateLimit headers last said (Docker Hub: ratelimit-limit); gone once that window has passed (6 h without one)',
  labelNames: ['remote'] as const,
  registers: [metricsRegistry],
  collect: dropEndedReadings,
});

/** Counts one request sent to an upstream; `status` undefined when no response came. */
export function countUpstreamRequest(remote: string, kind: RequestKind, status: number | undefined): void {
  requests.inc({ remote, kind: metricKind(kind), status_class: statusClass(status) });
}

/** Counts one retry of a request or transfer of `kind`. */
export function countUpstreamRetry(remote: string, kind: RequestKind): void {
  retries.inc({ remote, kind: metricKind(kind) });
}

/**
 * Keeps what an upstream last said of its quota, until the window it
 * announced (`w=` seconds; 6 h without one) has passed since; a field it did
 * not send leaves its gauge as it was.
 */
export function recordRateLimit(remote: string, info: RateLimitInfo): void {
  if (info.remaining !== undefined) rateLimitRemaining.set({ remote }, info.remaining);
  if (info.limit !== undefined) rateLimitLimit.set({ remote }, info.limit);
  if (info.remaining !== undefined || info.limit !== undefined) {
    readingEnds.set(remote, Date.now() + (info.windowSeconds === undefined ? UNWINDOWED_READING_MS : info.windowSeconds * 1000));
  }
}
