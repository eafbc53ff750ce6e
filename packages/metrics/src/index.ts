export { metricsRegistry } from './metrics-registry.ts';
export { metricsRouter } from './metrics-router.ts';
