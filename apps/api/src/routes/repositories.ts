import type { Repository as RepositoryRow } from '@cistern/db';
import { RepositoryInput, RepositoryPatch, SyncRequest } from '@cistern/domain';
import type { z } from 'zod';
import { hrefOf, type ApiContext } from '../context.ts';
import { toPage } from '../http/pagination.ts';
import type { RouteTable } from '../http/route-table.ts';
import { IdParams, page } from '../schemas/common.ts';
import { Repository, RepositoryListQuery } from '../schemas/repositories.ts';
import { TaskAccepted } from '../schemas/tasks.ts';
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
    upstreamName: row.upstreamName,
    pullThrough: row.pullThroughId,
    retainVersions: row.retainVersions,
    latestVersion: row.latestVersion,
    latestVersionHref: `${href}/versions/${row.latestVersion}`,
    versionsHref: `${href}/versions`,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export function repositoryRoutes(routes: RouteTable, ctx: ApiContext): void {
  routes.add(
    { method: 'get', path: '/repositories', tag: TAG, summary: 'List repositories', query: RepositoryListQuery, status: 200, response: page(Repository) },
    async ({ query, req }) => toPage(req, query, await ctx.repositories.list(query, query), toRepository),
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
    async ({ body }) => toRepository(await ctx.repositories.create(body)),
  );
  routes.add(
    {
      method: 'get',
      path: '/repositories/{id}',
      tag: TAG,
      summary: 'Show a repository with its storage usage',
      params: IdParams,
      status: 200,
      response: Repository,
    },
    async ({ params }) => {
      const { repository, usage } = await ctx.repositories.show(params.id);
      return { ...toRepository(repository), usage };
    },
  );
  for (const [method, body, summary] of [
    ['put', RepositoryInput, 'Replace a repository'],
    ['patch', RepositoryPatch, 'Update part of a repository'],
  ] as const) {
    // A whole repository given is every field updated: PUT replaces.
    routes.add(
      {
        method,
        path: '/repositories/{id}',
        tag: TAG,
        summary,
        params: IdParams,
        body,
        status: 200,
        response: Repository,
        errors: ['ALREADY_EXISTS', 'INVALID_REFERENCE'],
      },
      async ({ params, body: given }) => toRepository(await ctx.repositories.update(params.id, given)),
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
      errors: ['IN_USE', 'REDIS_UNAVAILABLE'],
    },
    async ({ params }) => ctx.repositories.delete(params.id),
  );
  routes.add(
    {
      method: 'post',
      path: '/repositories/{id}/sync',
      tag: TAG,
      summary: 'Start a sync',
      description:
        "Answers 202 with the task. A sync identical to one still waiting for this repository returns that task. With dryRun the task only plans: its result counts what a sync would do and links the plan's entries (GET /tasks/{id}/plan); a dry-run and a real sync are never deduplicated with each other. While Redis is unreachable it answers 503 REDIS_UNAVAILABLE with Retry-After at once and creates no task (if Redis goes in the moment between recording the task and queueing it, the task is marked failed with ENQUEUE_FAILED and the error's details name it).",
      params: IdParams,
      body: SyncRequest,
      status: 202,
      response: TaskAccepted,
      errors: ['NO_REMOTE', 'INVALID_REFERENCE', 'UPSTREAM_NAME_MISSING', 'REDIS_UNAVAILABLE'],
    },
    async ({ params, body }) => ({ task: toTask(await ctx.repositoryTasks.sync(params.id, body)) }),
  );
}
