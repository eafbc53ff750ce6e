import type { ApiContext } from '../context.ts';
import type { RouteTable } from '../http/route-table.ts';
import { StorageSummary } from '../schemas/storage.ts';

const TAG = 'Storage';

export function storageRoutes(routes: RouteTable, ctx: ApiContext): void {
  routes.add(
    {
      method: 'get',
      path: '/storage',
      tag: TAG,
      summary: 'Show store-wide usage: blobs, manifests, orphans and temporary files',
      description: "Counts and sizes (in bytes) over the whole store; a repository's own usage is on GET /repositories/{id}.",
      status: 200,
      response: StorageSummary,
    },
    async () => ctx.storage.summary(),
  );
}
