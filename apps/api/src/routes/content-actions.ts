import { repositoryResource, type TaskParamsOf } from '@cistern/queue';
import type { ApiContext } from '../context.ts';
import type { RouteTable } from '../http/route-table.ts';
import { IdParams } from '../schemas/common.ts';
import { CopyRequest, RemoveRequest, TagRequest, UntagRequest } from '../schemas/content-actions.ts';
import { SyncAccepted } from '../schemas/repositories.ts';
import type { ApiTaskKind } from '../task-kinds.ts';
import { assertExists } from './references.ts';
import { findRepository } from './repositories.ts';
import { toTask } from './tasks.ts';

const TAG = 'Repositories';

/** Content actions answer 202 with a task that writes one new version of the repository. */
export function contentActionRoutes(routes: RouteTable, ctx: ApiContext): void {
  const start = async <K extends ApiTaskKind['name']>(kind: K, params: TaskParamsOf<ApiTaskKind, K> & { repositoryId: string }) => {
    const { task } = await ctx.tasks.create({ kind, params, resource: repositoryResource(params.repositoryId) });
    return { task: toTask(task) };
  };
  const action = { tag: TAG, params: IdParams, status: 202 as const, response: SyncAccepted, method: 'post' as const };

  routes.add(
    { ...action, path: '/repositories/{id}/tag', summary: 'Tag a manifest of the latest version', body: TagRequest },
    async ({ params, body }) => start('tag', { ...body, repositoryId: (await findRepository(ctx, params.id)).id }),
  );
  routes.add(
    { ...action, path: '/repositories/{id}/untag', summary: 'Remove tags (their manifests stay)', body: UntagRequest },
    async ({ params, body }) => start('untag', { ...body, repositoryId: (await findRepository(ctx, params.id)).id }),
  );
  routes.add(
    {
      ...action,
      path: '/repositories/{id}/remove',
      summary: 'Remove manifests (with their tags, index children and referrers) or tags',
      body: RemoveRequest,
    },
    async ({ params, body }) => start('remove', { ...body, repositoryId: (await findRepository(ctx, params.id)).id }),
  );
  routes.add(
    {
      ...action,
      path: '/repositories/{id}/copy',
      summary: 'Copy tags or digests, with what they reference, from another repository version',
      description: 'With no tags and no digests, copies the whole source version (additively).',
      body: CopyRequest,
      errors: ['INVALID_REFERENCE'],
    },
    async ({ params, body }) => {
      const repository = await findRepository(ctx, params.id);
      await assertExists(ctx, 'repository', body.sourceRepositoryId, 'body.sourceRepositoryId');
      return start('copy', { ...body, repositoryId: repository.id });
    },
  );
}
