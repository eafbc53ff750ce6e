export { metricsRegistry } from './metrics-registry.ts';
export { metricsRouter } from './metrics-router.ts';
export { apiRequestMetrics, registryRequestMetrics, type RequestMetrics } from './request-metrics.ts';
export { methodLabel } from './method-label.ts';
export { statusClass, type StatusClass } from './status-class.ts';
export { countCollectError, sourcedGauge, type GaugeSample, type GaugeSource, type SourcedGauge } from './sourced-gauge.ts';
