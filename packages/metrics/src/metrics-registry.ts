import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * The one Prometheus registry of this process. Every Cistern metric is
 * registered here, so in the all-in-one start (API, worker and registry in
 * one process) every port's `/metrics` answers the same combined set.
 * Naming follows Prometheus conventions: `cistern_` prefix, `_total`
 * counters, `_seconds` and `_bytes` units, and no label whose values are
 * unbounded (never a digest or a tag).
 */
export const metricsRegistry = new Registry();

// Process defaults (CPU, heap, event-loop lag, GC), under their standard names.
collectDefaultMetrics({ register: metricsRegistry });
