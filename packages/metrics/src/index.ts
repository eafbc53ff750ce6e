export { metricsRegistry } from './metrics-registry.ts';
export { metricsRouter } from './metrics-router.ts';
export { countCollectError, sourcedGauge, type GaugeSample, type GaugeSource, type SourcedGauge } from './sourced-gauge.ts';
