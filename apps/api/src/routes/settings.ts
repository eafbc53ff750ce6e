import type { StoredPolicy } from '@cistern/settings';
import type { z } from 'zod';
import type { ApiContext } from '../context.ts';
import type { RouteTable } from '../http/route-table.ts';
import { Policy, PolicyInput } from '../schemas/settings.ts';

const TAG = 'Settings';

const toPolicy = ({ policy, updatedAt }: StoredPolicy): z.input<typeof Policy> => ({ ...policy, updatedAt: updatedAt?.toISOString() ?? null });

export function settingsRoutes(routes: RouteTable, ctx: ApiContext): void {
  routes.add({ method: 'get', path: '/settings/media-types', tag: TAG, summary: 'Show the media-type policy', status: 200, response: Policy }, async () =>
    toPolicy(await ctx.settings.mediaTypePolicy()),
  );
  routes.add(
    {
      method: 'put',
      path: '/settings/media-types',
      tag: TAG,
      summary: 'Replace the media-type policy',
      description: 'Workers read it at the start of each sync: the next sync applies it, no restart needed.',
      body: PolicyInput,
      status: 200,
      response: Policy,
    },
    async ({ body }) => toPolicy(await ctx.settings.saveMediaTypePolicy(body)),
  );
}
