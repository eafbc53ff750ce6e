import { metricsRegistry } from '@cistern/metrics';
import { Counter } from 'prom-client';

/** Downloads a pull started for a blob not yet stored (on_demand remotes; streamed ones keep nothing and are not counted), by how they ended. */
export const onDemandFetches = new Counter({
  name: 'cistern_registry_on_demand_fetches_total',
  help: 'Blobs fetched from upstream on first pull (on_demand), by outcome: completed (stored) or failed.',
  labelNames: ['outcome'] as const,
  registers: [metricsRegistry],
});

/** Pulls that waited on a download already in flight (in this process or another) instead of starting one. */
export const onDemandCoalesced = new Counter({
  name: 'cistern_registry_on_demand_coalesced_total',
  help: 'Pulls that waited on an on-demand fetch already in flight instead of starting one.',
  registers: [metricsRegistry],
});

/** Pulls of a blob an on_demand remote recorded that were served from storage. */
export const onDemandHits = new Counter({
  name: 'cistern_registry_on_demand_hits_total',
  help: 'Pulls of an on-demand blob already stored (cache hits).',
  registers: [metricsRegistry],
});
