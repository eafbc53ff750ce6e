export { cleanupOrphans, countOrphans, type CleanupFigures, type CleanupOptions } from './orphan-cleanup.ts';
export { reclaimSpace, type ReclaimFigures, type ReclaimOptions } from './reclaim-space.ts';
export {
  orphanCleanupTask,
  orphanCleanupParamsSchema,
  reclaimSpaceTask,
  reclaimSpaceParamsSchema,
  scheduledOrphanCleanup,
  STORAGE_RESOURCE,
  type StorageTaskDeps,
} from './storage-tasks.ts';
