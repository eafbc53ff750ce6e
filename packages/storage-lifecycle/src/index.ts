export { cleanupOrphans, countOrphans, type CleanupFigures, type CleanupOptions } from './orphan-cleanup.ts';
export { orphanCleanupTask, orphanCleanupParamsSchema, scheduledOrphanCleanup, STORAGE_RESOURCE, type StorageTaskDeps } from './storage-tasks.ts';
