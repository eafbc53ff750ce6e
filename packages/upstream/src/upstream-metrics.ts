import { metricsRegistry } from '@cistern/metrics';
import { Counter, Gauge } from 'prom-client';
import type { RequestKind } from './errors.ts';
import type { RateLimitInfo } from './rate-limit.ts';

/** The `kind` label: what a request was for (a ping of `/v2/` is `other`). */
type MetricKind = 'token' | 'tags' | 'manifest' | 'blob' | 'referrers' | 'catalog' | 'other';

const metricKind = (kind: RequestKind): MetricKind => (kind === 'ping' ? 'other' : kind);

/** `2xx` and so on; `error` when no response came (refused, reset, timed out, aborted). */
const statusClass = (status: number | undefined): string => (status === undefined || status < 100 || status > 599 ? 'error' : `${Math.floor(status / 100)}xx`);

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

const rateLimitRemaining = new Gauge({
  name: 'cistern_upstream_rate_limit_remaining',
  help: "Requests left in the upstream's rate-limit window, as its RateLimit headers last said (Docker Hub: ratelimit-remaining)",
  labelNames: ['remote'] as const,
  registers: [metricsRegistry],
});

const rateLimitLimit = new Gauge({
  name: 'cistern_upstream_rate_limit_limit',
  help: 'Requests the upstream allows per rate-limit window, as its RateLimit headers last said (Docker Hub: ratelimit-limit)',
  labelNames: ['remote'] as const,
  registers: [metricsRegistry],
});

/** Counts one request sent to an upstream; `status` undefined when no response came. */
export function countUpstreamRequest(remote: string, kind: RequestKind, status: number | undefined): void {
  requests.inc({ remote, kind: metricKind(kind), status_class: statusClass(status) });
}

/** Counts one retry of a request or transfer of `kind`. */
export function countUpstreamRetry(remote: string, kind: RequestKind): void {
  retries.inc({ remote, kind: metricKind(kind) });
}

/** Keeps what an upstream last said of its quota; a field it did not send leaves its gauge as it was. */
export function recordRateLimit(remote: string, info: RateLimitInfo): void {
  if (info.remaining !== undefined) rateLimitRemaining.set({ remote }, info.remaining);
  if (info.limit !== undefined) rateLimitLimit.set({ remote }, info.limit);
}
