export { API_PREFIX, hrefOf, repositoryVersionHref, syncPlanHref } from './api-hrefs.ts';
export { healthRouter, type ReadinessCheck } from './health.ts';
export { observeRequests, type ObserveRequestsOptions } from './observe-requests.ts';
export { listen, type RunningServer } from './http-server.ts';
export { runMain, type Closer } from './run-main.ts';
export { openResources, type Resources, type OpenResourcesOptions } from './resources.ts';
export { sweepTemporaryAtStart } from './sweep-temporary.ts';
