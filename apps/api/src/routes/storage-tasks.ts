import { orphanCleanupParamsSchema } from '@cistern/storage-lifecycle';
import type { ApiContext } from '../context.ts';
import type { RouteTable } from '../http/route-table.ts';
import { SyncAccepted } from '../schemas/repositories.ts';
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
      response: SyncAccepted,
    },
    async ({ body }) => ({ task: toTask(await ctx.storageTasks.cleanupOrphans(body)) }),
  );
}
