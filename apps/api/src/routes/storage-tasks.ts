import { orphanCleanupParamsSchema, reclaimSpaceParamsSchema } from '@cistern/storage-lifecycle';
import type { ApiContext } from '../context.ts';
import type { RouteTable } from '../http/route-table.ts';
import { TaskAccepted } from '../schemas/tasks.ts';
import { toTask } from './tasks.ts';

const TAG = 'Storage';

/** Tasks over the whole store: they answer 202 with the task, as a sync does. */
export function storageTaskRoutes(routes: RouteTable, ctx: ApiContext): void {
  routes.add(
    {
      method: 'post',
      path: '/orphans/cleanup',
      tag: TAG,
      summary: 'Remove orphans: manifests no repository version references, blobs no manifest references, and their files',
      description:
        "Answers 202 with the task; its result says what it removed (with dryRun, what it would remove). Content a sync, fetch or upload in flight relies on is never removed, whatever the protection time (see the README, 'Storage lifecycle').",
      body: orphanCleanupParamsSchema.meta({ id: 'OrphanCleanupRequest' }),
      status: 202,
      response: TaskAccepted,
      errors: ['REDIS_UNAVAILABLE'],
    },
    async ({ body }) => ({ task: toTask(await ctx.storageTasks.cleanupOrphans(body)) }),
  );
  routes.add(
    {
      method: 'post',
      path: '/repositories/reclaim',
      tag: TAG,
      summary: "Reclaim space: drop the files of blobs only the listed repositories' old versions need",
      description:
        "Answers 202 with the task; its result says how many blob files it dropped and the bytes freed. Their rows stay, not stored: a pull fetches them from the remote again. Only blobs a sync downloaded from a remote are reclaimed; those a kept version (the newest keepVersions, and pinned ones) or another repository needs stay, as does content a sync, fetch or upload in flight relies on (see the README, 'Storage lifecycle'). An unknown repository is INVALID_REFERENCE.",
      body: reclaimSpaceParamsSchema.meta({ id: 'ReclaimSpaceRequest' }),
      status: 202,
      response: TaskAccepted,
      errors: ['REDIS_UNAVAILABLE'],
    },
    async ({ body }) => ({ task: toTask(await ctx.storageTasks.reclaimSpace(body)) }),
  );
}
