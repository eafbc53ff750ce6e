export { startRegistry, type RunningRegistry } from './start-registry.ts';
