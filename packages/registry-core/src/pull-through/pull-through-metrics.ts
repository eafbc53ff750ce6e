import { metricsRegistry } from '@cistern/metrics';
import { Counter } from 'prom-client';

/**
 * Pulls through a pull-through distribution, by object (manifest, blob) and
 * result: hit (served from the cache), miss (fetched upstream), stale (a
 * cached tag served because its re-check failed), negative (a remembered
 * upstream 404, answered without asking).
 */
export const pullThroughRequests = new Counter({
  name: 'cistern_pull_through_requests_total',
  help: 'Pulls through a pull-through distribution, by object and result (hit, miss, stale, negative).',
  labelNames: ['object', 'result'] as const,
  registers: [metricsRegistry],
});

/** Upstream re-checks (HEAD) of cached tags whose freshness ran out, by outcome. */
export const pullThroughRechecks = new Counter({
  name: 'cistern_pull_through_rechecks_total',
  help: 'Upstream re-checks of cached tags, by outcome: unchanged, changed, gone (404) or failed (served stale).',
  labelNames: ['outcome'] as const,
  registers: [metricsRegistry],
});

/** Pulls that waited on another pull's upstream fetch or re-check (in this process or another) instead of making their own. */
export const pullThroughCoalesced = new Counter({
  name: 'cistern_pull_through_coalesced_total',
  help: "Pull-through pulls that waited on another pull's upstream request instead of making one, by object (manifest, recheck).",
  labelNames: ['object'] as const,
  registers: [metricsRegistry],
});

/** Versions the background writer wrote into cache repositories, and flushes that failed (their pending rows stay). */
export const pullThroughFlushes = new Counter({
  name: 'cistern_pull_through_flushes_total',
  help: 'Flushes of pending pull-through content into cache repository versions, by outcome (written, unchanged, failed).',
  labelNames: ['outcome'] as const,
  registers: [metricsRegistry],
});

// Every series exists from the start: a rate over a series that appears late misses its first increments.
for (const result of ['hit', 'miss', 'stale', 'negative']) pullThroughRequests.inc({ object: 'manifest', result }, 0);
// A blob is never re-checked nor remembered missing: it is stored or fetched.
for (const result of ['hit', 'miss']) pullThroughRequests.inc({ object: 'blob', result }, 0);
for (const outcome of ['unchanged', 'changed', 'gone', 'failed']) pullThroughRechecks.inc({ outcome }, 0);
for (const object of ['manifest', 'recheck']) pullThroughCoalesced.inc({ object }, 0);
for (const outcome of ['written', 'unchanged', 'failed']) pullThroughFlushes.inc({ outcome }, 0);
