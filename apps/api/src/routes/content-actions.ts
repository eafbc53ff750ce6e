import type { ContentAction, RepositoryTaskKind } from '@cistern/domain';
import type { TaskParamsOf } from '@cistern/queue';
import type { ApiContext } from '../context.ts';
import type { RouteTable } from '../http/route-table.ts';
import { IdParams } from '../schemas/common.ts';
import { CopyRequest, RemoveRequest, TagRequest, UntagRequest } from '../schemas/content-actions.ts';
import { TaskAccepted } from '../schemas/tasks.ts';
import { toTask } from './tasks.ts';

const TAG = 'Repositories';

/** Content actions answer 202 with a task that writes one new version of the repository. */
export function contentActionRoutes(routes: RouteTable, ctx: ApiContext): void {
  const start = async <K extends ContentAction>(id: string, kind: K, params: Omit<TaskParamsOf<RepositoryTaskKind, K>, 'repositoryId'>) => ({
    task: toTask(await ctx.repositoryTasks.act(id, kind, params)),
  });
  const action = { tag: TAG, params: IdParams, status: 202 as const, response: TaskAccepted, method: 'post' as const, errors: ['REDIS_UNAVAILABLE' as const] };

  routes.add({ ...action, path: '/repositories/{id}/tag', summary: 'Tag a manifest of the latest version', body: TagRequest }, async ({ params, body }) =>
    start(params.id, 'tag', body),
  );
  routes.add({ ...action, path: '/repositories/{id}/untag', summary: 'Remove tags (their manifests stay)', body: UntagRequest }, async ({ params, body }) =>
    start(params.id, 'untag', body),
  );
  routes.add(
    {
      ...action,
      path: '/repositories/{id}/remove',
      summary: 'Remove manifests (with their tags, index children and referrers) or tags',
      body: RemoveRequest,
    },
    async ({ params, body }) => start(params.id, 'remove', body),
  );
  routes.add(
    {
      ...action,
      path: '/repositories/{id}/copy',
      summary: 'Copy tags or digests, with what they reference, from another repository version',
      description: 'With no tags and no digests, copies the whole source version (additively).',
      body: CopyRequest,
      errors: ['INVALID_REFERENCE', 'REDIS_UNAVAILABLE'],
    },
    async ({ params, body }) => start(params.id, 'copy', body),
  );
}
