import type { Prisma, Repository as RepositoryRow } from '@cistern/db';
import { removeSchedule, repositoryResource } from '@cistern/queue';
import type { z } from 'zod';
import { hrefOf, type ApiContext } from '../context.ts';
import { ApiError, notFound } from '../errors/api-error.ts';
import { pageArgs, toPage } from '../http/pagination.ts';
import type { RouteTable } from '../http/route-table.ts';
import { IdParams, nameWhere, page } from '../schemas/common.ts';
import { Repository, RepositoryInput, RepositoryListQuery, RepositoryPatch, SyncAccepted, SyncRequest } from '../schemas/repositories.ts';
import { assertExists } from './references.ts';
import { toTask } from './tasks.ts';

const TAG = 'Repositories';

function toRepository(row: RepositoryRow): z.input<typeof Repository> {
  const href = hrefOf('repositories', row.id);
  return {
    id: row.id,
    href,
    name: row.name,
    description: row.description,
    remote: row.remoteId,
    retainVersions: row.retainVersions,
    latestVersion: row.latestVersion,
    latestVersionHref: `${href}/versions/${row.latestVersion}`,
    versionsHref: `${href}/versions`,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export async function findRepository(ctx: ApiContext, id: string): Promise<RepositoryRow> {
  const row = await ctx.prisma.repository.findUnique({ where: { id } });
  if (!row) throw notFound('repository', id);
  return row;
}

async function toData(ctx: ApiContext, input: z.output<typeof RepositoryInput>) {
  if (input.remote !== null) await assertExists(ctx, 'remote', input.remote, 'body.remote');
  return { name: input.name, description: input.description, remoteId: input.remote, retainVersions: input.retainVersions };
}

/** What keeps a repository from being deleted: distributions serving it and tasks about to change it. */
async function dependents(ctx: ApiContext, repo: RepositoryRow): Promise<string[]> {
  const [distributions, tasks] = await Promise.all([
    ctx.prisma.distribution.findMany({
      where: { OR: [{ repositoryId: repo.id }, { repositoryVersion: { repositoryId: repo.id } }] },
      select: { name: true },
      take: 5,
    }),
    ctx.prisma.task.findMany({
      where: { resource: repositoryResource(repo.id), state: { in: ['waiting', 'running', 'canceling'] } },
      select: { id: true, state: true },
      take: 5,
    }),
  ]);
  return [...distributions.map((d) => `distribution "${d.name}" serves it`), ...tasks.map((t) => `task ${t.id} is ${t.state}`)];
}

export function repositoryRoutes(routes: RouteTable, ctx: ApiContext): void {
  routes.add(
    { method: 'get', path: '/repositories', tag: TAG, summary: 'List repositories', query: RepositoryListQuery, status: 200, response: page(Repository) },
    async ({ query, req }) => {
      const where: Prisma.RepositoryWhereInput = { ...nameWhere(query), remoteId: query.remote };
      const [count, rows] = await Promise.all([
        ctx.prisma.repository.count({ where }),
        ctx.prisma.repository.findMany({ where, orderBy: { name: 'asc' }, ...pageArgs(query) }),
      ]);
      return toPage(req, query, count, rows.map(toRepository));
    },
  );
  routes.add(
    {
      method: 'post',
      path: '/repositories',
      tag: TAG,
      summary: 'Create a repository (with its empty version 0)',
      body: RepositoryInput,
      status: 201,
      response: Repository,
      errors: ['ALREADY_EXISTS', 'INVALID_REFERENCE'],
    },
    async ({ body }) => {
      const data = await toData(ctx, body);
      const row = await ctx.prisma.repository.create({ data: { ...data, versions: { create: { number: 0 } } } });
      return toRepository(row);
    },
  );
  routes.add(
    { method: 'get', path: '/repositories/{id}', tag: TAG, summary: 'Show a repository', params: IdParams, status: 200, response: Repository },
    async ({ params }) => toRepository(await findRepository(ctx, params.id)),
  );
  for (const [method, body, summary] of [
    ['put', RepositoryInput, 'Replace a repository'],
    ['patch', RepositoryPatch, 'Update part of a repository'],
  ] as const) {
    routes.add(
      { method, path: '/repositories/{id}', tag: TAG, summary, params: IdParams, body, status: 200, response: Repository, errors: ['ALREADY_EXISTS', 'INVALID_REFERENCE'] },
      async ({ params, body: given }) => {
        const stored = await findRepository(ctx, params.id);
        const current = { name: stored.name, description: stored.description, remote: stored.remoteId, retainVersions: stored.retainVersions };
        const data = await toData(ctx, RepositoryInput.parse({ ...current, ...given }));
        return toRepository(await ctx.prisma.repository.update({ where: { id: stored.id }, data }));
      },
    );
  }
  routes.add(
    {
      method: 'delete',
      path: '/repositories/{id}',
      tag: TAG,
      summary: 'Delete a repository, its versions and schedules',
      params: IdParams,
      status: 204,
      errors: ['IN_USE'],
    },
    async ({ params }) => {
      const repo = await findRepository(ctx, params.id);
      const blockers = await dependents(ctx, repo);
      if (blockers.length > 0) throw new ApiError('IN_USE', `repository "${repo.name}" cannot be deleted: ${blockers.join('; ')}`);
      const schedules = await ctx.prisma.schedule.findMany({ where: { repositoryId: repo.id }, select: { id: true } });
      for (const schedule of schedules) await removeSchedule(ctx.scheduleQueue, schedule.id);
      await ctx.prisma.repository.delete({ where: { id: repo.id } });
    },
  );
  routes.add(
    {
      method: 'post',
      path: '/repositories/{id}/sync',
      tag: TAG,
      summary: 'Start a sync',
      description: 'Answers 202 with the task. A sync identical to one still waiting for this repository returns that task.',
      params: IdParams,
      body: SyncRequest,
      status: 202,
      response: SyncAccepted,
      errors: ['NO_REMOTE', 'INVALID_REFERENCE'],
    },
    async ({ params, body }) => {
      const repo = await findRepository(ctx, params.id);
      const remoteId = body.remote ?? repo.remoteId;
      if (!remoteId) throw new ApiError('NO_REMOTE', `give a remote: repository "${repo.name}" has no default remote`);
      if (body.remote) await assertExists(ctx, 'remote', body.remote, 'body.remote');
      const { task } = await ctx.tasks.create({
        kind: 'sync',
        params: { repositoryId: repo.id, remoteId, mirror: body.mirror },
        resource: repositoryResource(repo.id),
        dedupe: true,
      });
      return { task: toTask(task) };
    },
  );
}
