export { syncRepository, type SyncDeps, type SyncInput, type SyncResult } from './sync-repository.ts';
export { Report, type SyncProgress } from './sync-progress.ts';
export { syncTask, type SyncTaskDeps } from './sync-task.ts';
export { syncedUpstreamName } from './synced-upstream-name.ts';
export { syncPlanSummarySchema, type SyncPlanSummary } from './sync-plan.ts';
