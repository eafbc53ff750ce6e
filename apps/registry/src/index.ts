export { startRegistry, type RunningRegistry } from './start-registry.ts';
export type { RegistryOptions } from './registry-options.ts';
