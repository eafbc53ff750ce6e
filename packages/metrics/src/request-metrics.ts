import { Counter, Histogram } from 'prom-client';
import { metricsRegistry } from './metrics-registry.ts';

/**
 * One app's HTTP request metrics. `route` is the app's own bounded route
 * group (never a raw path), `method` from `methodLabel`, `status_class`
 * from `statusClass`.
 */
export interface RequestMetrics {
  requests: Counter<'route' | 'method' | 'status_class'>;
  /** Seconds from the request's arrival to the response's end (or the client's leaving). */
  duration: Histogram<'route' | 'method'>;
  /** Response body bytes handed to the connection; only where bytes are the product (the registry). */
  sentBytes?: Counter<'route'>;
}

// Blob pulls of large layers take minutes: the buckets reach five of them.
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** Requests to the registry app, by route group (base|manifests|blobs|tags|referrers|catalog|token|uploads|other). */
export const registryRequestMetrics: RequestMetrics = {
  requests: new Counter({
    name: 'cistern_registry_requests_total',
    help: 'Registry requests answered (or left by the client), by route group, method and status class.',
    labelNames: ['route', 'method', 'status_class'],
    registers: [metricsRegistry],
  }),
  duration: new Histogram({
    name: 'cistern_registry_request_duration_seconds',
    help: 'Registry request duration in seconds, until the last byte of the response, by route group and method.',
    labelNames: ['route', 'method'],
    buckets: DURATION_BUCKETS,
    registers: [metricsRegistry],
  }),
  sentBytes: new Counter({
    name: 'cistern_registry_sent_bytes_total',
    help: 'Response body bytes the registry sent, by route group.',
    labelNames: ['route'],
    registers: [metricsRegistry],
  }),
};

/** Requests to the API app, by route template (`/repositories/{id}/sync`) or `other`. */
export const apiRequestMetrics: RequestMetrics = {
  requests: new Counter({
    name: 'cistern_api_requests_total',
    help: 'API requests answered (or left by the client), by route template, method and status class.',
    labelNames: ['route', 'method', 'status_class'],
    registers: [metricsRegistry],
  }),
  duration: new Histogram({
    name: 'cistern_api_request_duration_seconds',
    help: 'API request duration in seconds, by route template and method.',
    labelNames: ['route', 'method'],
    buckets: DURATION_BUCKETS,
    registers: [metricsRegistry],
  }),
};
