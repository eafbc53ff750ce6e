import { RemoteInput, RemotePatch, type RemoteView } from '@cistern/domain';
import type { z } from 'zod';
import { hrefOf, type ApiContext } from '../context.ts';
import { toPage } from '../http/pagination.ts';
import type { RouteTable } from '../http/route-table.ts';
import { IdParams, page } from '../schemas/common.ts';
import { Remote, RemoteListQuery } from '../schemas/remotes.ts';

const TAG = 'Remotes';

function toRemote({ passwordSet, proxyPasswordSet, ...fields }: RemoteView): z.input<typeof Remote> {
  return {
    ...fields,
    href: hrefOf('remotes', fields.id),
    passwordSet,
    proxyPasswordSet,
    createdAt: fields.createdAt.toISOString(),
    updatedAt: fields.updatedAt.toISOString(),
  };
}

export function remoteRoutes(routes: RouteTable, ctx: ApiContext): void {
  routes.add(
    { method: 'get', path: '/remotes', tag: TAG, summary: 'List remotes', query: RemoteListQuery, status: 200, response: page(Remote) },
    async ({ query, req }) => toPage(req, query, await ctx.remotes.list(query, query), toRemote),
  );
  routes.add(
    { method: 'post', path: '/remotes', tag: TAG, summary: 'Create a remote', body: RemoteInput, status: 201, response: Remote, errors: ['ALREADY_EXISTS'] },
    async ({ body }) => toRemote(await ctx.remotes.create(body)),
  );
  routes.add(
    { method: 'get', path: '/remotes/{id}', tag: TAG, summary: 'Show a remote', params: IdParams, status: 200, response: Remote },
    async ({ params }) => toRemote(await ctx.remotes.get(params.id)),
  );
  routes.add(
    {
      method: 'put',
      path: '/remotes/{id}',
      tag: TAG,
      summary: 'Replace a remote',
      description: 'Fields left out take their defaults, except `password` and `proxyPassword`, which are kept unless given (null clears them).',
      params: IdParams,
      body: RemoteInput,
      status: 200,
      response: Remote,
      errors: ['ALREADY_EXISTS'],
    },
    async ({ params, body }) => toRemote(await ctx.remotes.replace(params.id, body)),
  );
  routes.add(
    {
      method: 'patch',
      path: '/remotes/{id}',
      tag: TAG,
      summary: 'Update part of a remote',
      params: IdParams,
      body: RemotePatch,
      status: 200,
      response: Remote,
      errors: ['ALREADY_EXISTS'],
    },
    async ({ params, body }) => toRemote(await ctx.remotes.update(params.id, body)),
  );
  routes.add(
    { method: 'delete', path: '/remotes/{id}', tag: TAG, summary: 'Delete a remote', params: IdParams, status: 204, errors: ['IN_USE'] },
    async ({ params }) => ctx.remotes.delete(params.id),
  );
}
