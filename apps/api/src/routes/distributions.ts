import { DistributionInput, DistributionPatch, type DistributionView as DistributionRow } from '@cistern/domain';
import type { z } from 'zod';
import { hrefOf, type ApiContext } from '../context.ts';
import { toPage } from '../http/pagination.ts';
import type { RouteTable } from '../http/route-table.ts';
import { IdParams, page } from '../schemas/common.ts';
import { Distribution, DistributionListQuery } from '../schemas/distributions.ts';

const TAG = 'Distributions';

function toDistribution(ctx: ApiContext, row: DistributionRow): z.input<typeof Distribution> {
  return {
    id: row.id,
    href: hrefOf('distributions', row.id),
    name: row.name,
    basePath: row.basePath,
    ...row.source,
    registryMirror: row.registryMirror,
    tagTtlSeconds: row.tagTtlSeconds,
    private: row.private,
    registryPath: `${new URL(ctx.config.publicUrl).host}/${row.basePath}`,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export function distributionRoutes(routes: RouteTable, ctx: ApiContext): void {
  const shape = (row: DistributionRow) => toDistribution(ctx, row);
  routes.add(
    { method: 'get', path: '/distributions', tag: TAG, summary: 'List distributions', query: DistributionListQuery, status: 200, response: page(Distribution) },
    async ({ query, req }) => toPage(req, query, await ctx.distributions.list(query, query), shape),
  );
  routes.add(
    {
      method: 'post',
      path: '/distributions',
      tag: TAG,
      summary: 'Create a distribution',
      description:
        'It serves a repository (its latest version, or the one repositoryVersion pins) or, pull-through, a remote: exactly one of repository and remote is given.',
      body: DistributionInput,
      status: 201,
      response: Distribution,
      errors: ['ALREADY_EXISTS', 'INVALID_REFERENCE'],
    },
    async ({ body }) => shape(await ctx.distributions.create(body)),
  );
  routes.add(
    { method: 'get', path: '/distributions/{id}', tag: TAG, summary: 'Show a distribution', params: IdParams, status: 200, response: Distribution },
    async ({ params }) => shape(await ctx.distributions.get(params.id)),
  );
  for (const [method, body, summary] of [
    ['put', DistributionInput, 'Replace a distribution'],
    ['patch', DistributionPatch, 'Update part of a distribution'],
  ] as const) {
    // A whole distribution given is every field updated: PUT replaces.
    routes.add(
      {
        method,
        path: '/distributions/{id}',
        tag: TAG,
        summary,
        params: IdParams,
        body,
        status: 200,
        response: Distribution,
        errors: ['ALREADY_EXISTS', 'INVALID_REFERENCE'],
      },
      async ({ params, body: given }) => shape(await ctx.distributions.update(params.id, given)),
    );
  }
  routes.add(
    {
      method: 'delete',
      path: '/distributions/{id}',
      tag: TAG,
      summary: 'Delete a distribution',
      description:
        "A pull-through distribution's cache repositories stay, with their versions and content, as repositories of no distribution (pullThrough null).",
      params: IdParams,
      status: 204,
    },
    async ({ params }) => ctx.distributions.delete(params.id),
  );
}
