import type { Distribution as DistributionRow, Prisma } from '@cistern/db';
import type { z } from 'zod';
import { hrefOf, type ApiContext } from '../context.ts';
import { notFound } from '../errors/api-error.ts';
import { pageArgs, toPage } from '../http/pagination.ts';
import type { RouteTable } from '../http/route-table.ts';
import { IdParams, nameWhere, page } from '../schemas/common.ts';
import { Distribution, DistributionInput, DistributionListQuery, DistributionPatch } from '../schemas/distributions.ts';
import { assertExists } from './references.ts';

const TAG = 'Distributions';

function toDistribution(ctx: ApiContext, row: DistributionRow): z.input<typeof Distribution> {
  return {
    id: row.id,
    href: hrefOf('distributions', row.id),
    name: row.name,
    basePath: row.basePath,
    repository: row.repositoryId,
    repositoryVersion: row.repositoryVersionId,
    private: row.private,
    registryPath: `${new URL(ctx.config.publicUrl).host}/${row.basePath}`,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

async function toData(ctx: ApiContext, input: DistributionInput) {
  if (input.repository) await assertExists(ctx, 'repository', input.repository, 'body.repository');
  if (input.repositoryVersion) await assertExists(ctx, 'repositoryVersion', input.repositoryVersion, 'body.repositoryVersion');
  return {
    name: input.name,
    basePath: input.basePath,
    repositoryId: input.repository,
    repositoryVersionId: input.repositoryVersion,
    private: input.private,
  };
}

async function findDistribution(ctx: ApiContext, id: string): Promise<DistributionRow> {
  const row = await ctx.prisma.distribution.findUnique({ where: { id } });
  if (!row) throw notFound('distribution', id);
  return row;
}

export function distributionRoutes(routes: RouteTable, ctx: ApiContext): void {
  routes.add(
    { method: 'get', path: '/distributions', tag: TAG, summary: 'List distributions', query: DistributionListQuery, status: 200, response: page(Distribution) },
    async ({ query, req }) => {
      const where: Prisma.DistributionWhereInput = {
        ...nameWhere(query),
        basePath: query.basePath,
        private: query.private,
        ...(query.repository ? { OR: [{ repositoryId: query.repository }, { repositoryVersion: { repositoryId: query.repository } }] } : {}),
      };
      const [count, rows] = await Promise.all([
        ctx.prisma.distribution.count({ where }),
        ctx.prisma.distribution.findMany({ where, orderBy: { name: 'asc' }, ...pageArgs(query) }),
      ]);
      return toPage(req, query, count, rows.map((row) => toDistribution(ctx, row)));
    },
  );
  routes.add(
    {
      method: 'post',
      path: '/distributions',
      tag: TAG,
      summary: 'Create a distribution',
      body: DistributionInput,
      status: 201,
      response: Distribution,
      errors: ['ALREADY_EXISTS', 'INVALID_REFERENCE'],
    },
    async ({ body }) => toDistribution(ctx, await ctx.prisma.distribution.create({ data: await toData(ctx, body) })),
  );
  routes.add(
    { method: 'get', path: '/distributions/{id}', tag: TAG, summary: 'Show a distribution', params: IdParams, status: 200, response: Distribution },
    async ({ params }) => toDistribution(ctx, await findDistribution(ctx, params.id)),
  );
  for (const [method, body, summary] of [
    ['put', DistributionInput, 'Replace a distribution'],
    ['patch', DistributionPatch, 'Update part of a distribution'],
  ] as const) {
    routes.add(
      { method, path: '/distributions/{id}', tag: TAG, summary, params: IdParams, body, status: 200, response: Distribution, errors: ['ALREADY_EXISTS', 'INVALID_REFERENCE'] },
      async ({ params, body: given }) => {
        const stored = await findDistribution(ctx, params.id);
        const current = {
          name: stored.name,
          basePath: stored.basePath,
          repository: stored.repositoryId,
          repositoryVersion: stored.repositoryVersionId,
          private: stored.private,
        };
        // Switching between repository and repositoryVersion in a PATCH means naming one and nulling the other.
        const merged = DistributionInput.parse(method === 'put' ? given : { ...current, ...given });
        return toDistribution(ctx, await ctx.prisma.distribution.update({ where: { id: stored.id }, data: await toData(ctx, merged) }));
      },
    );
  }
  routes.add(
    { method: 'delete', path: '/distributions/{id}', tag: TAG, summary: 'Delete a distribution', params: IdParams, status: 204 },
    async ({ params }) => {
      const row = await findDistribution(ctx, params.id);
      await ctx.prisma.distribution.delete({ where: { id: row.id } });
    },
  );
}
