import type { RepositoryVersion as VersionRow } from '@cistern/db';
import type { z } from 'zod';
import { hrefOf, type ApiContext } from '../context.ts';
import { ApiError, notFound } from '../errors/api-error.ts';
import { pageArgs, toPage } from '../http/pagination.ts';
import type { RouteTable } from '../http/route-table.ts';
import { IdParams, page, PageQuery } from '../schemas/common.ts';
import { RepositoryVersion, VersionParams } from '../schemas/repositories.ts';
import { findRepository } from './repositories.ts';
import { dropOrphanRanges, versionContent } from './version-content.ts';

const TAG = 'Repositories';

function toVersion(row: VersionRow): z.input<typeof RepositoryVersion> {
  return {
    id: row.id,
    href: `${hrefOf('repositories', row.repositoryId)}/versions/${row.number}`,
    repository: row.repositoryId,
    number: row.number,
    baseVersion: row.baseVersion,
    createdAt: row.createdAt.toISOString(),
  };
}

async function findVersion(ctx: ApiContext, repositoryId: string, number: number): Promise<VersionRow> {
  const row = await ctx.prisma.repositoryVersion.findUnique({ where: { repositoryId_number: { repositoryId, number } } });
  if (!row) throw notFound(`version ${number} of repository`, repositoryId);
  return row;
}

export function versionRoutes(routes: RouteTable, ctx: ApiContext): void {
  routes.add(
    {
      method: 'get',
      path: '/repositories/{id}/versions',
      tag: TAG,
      summary: "List a repository's versions, newest first",
      params: IdParams,
      query: PageQuery,
      status: 200,
      response: page(RepositoryVersion),
    },
    async ({ params, query, req }) => {
      const repo = await findRepository(ctx, params.id);
      const where = { repositoryId: repo.id };
      const [count, rows] = await Promise.all([
        ctx.prisma.repositoryVersion.count({ where }),
        ctx.prisma.repositoryVersion.findMany({ where, orderBy: { number: 'desc' }, ...pageArgs(query) }),
      ]);
      return toPage(req, query, count, rows.map(toVersion));
    },
  );
  routes.add(
    {
      method: 'get',
      path: '/repositories/{id}/versions/{number}',
      tag: TAG,
      summary: 'Show a version with its content summary',
      params: VersionParams,
      status: 200,
      response: RepositoryVersion,
    },
    async ({ params }) => {
      const row = await findVersion(ctx, params.id, params.number);
      return { ...toVersion(row), content: await versionContent(ctx.prisma, row.repositoryId, row.number, row.baseVersion) };
    },
  );
  routes.add(
    {
      method: 'delete',
      path: '/repositories/{id}/versions/{number}',
      tag: TAG,
      summary: 'Delete a version',
      description: 'Version 0, the latest version and versions a distribution pins cannot be deleted.',
      params: VersionParams,
      status: 204,
      errors: ['VERSION_PROTECTED', 'IN_USE'],
    },
    async ({ params }) => {
      const repo = await findRepository(ctx, params.id);
      const version = await findVersion(ctx, repo.id, params.number);
      if (version.number === 0) throw new ApiError('VERSION_PROTECTED', 'version 0 is where every repository starts; it cannot be deleted');
      if (version.number === repo.latestVersion) {
        throw new ApiError('VERSION_PROTECTED', `version ${version.number} is the latest: the repository and its distributions serve it`);
      }
      const pins = await ctx.prisma.distribution.findMany({ where: { repositoryVersionId: version.id }, select: { name: true } });
      if (pins.length > 0) {
        throw new ApiError('IN_USE', `version ${version.number} is pinned by ${pins.map((d) => `distribution "${d.name}"`).join(', ')}`);
      }
      await ctx.prisma.$transaction(async (tx) => {
        await tx.repositoryVersion.delete({ where: { id: version.id } });
        await dropOrphanRanges(tx, repo.id);
      });
    },
  );
}
