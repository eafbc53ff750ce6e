export { startApi, type RunningApi, type StartApiOptions } from './start-api.ts';
