import type { RepositoryVersion as VersionRow } from '@cistern/db';
import { cursorText } from '@cistern/domain';
import type { z } from 'zod';
import { hrefOf, type ApiContext } from '../context.ts';
import { pageLink, toPage } from '../http/pagination.ts';
import type { RouteTable } from '../http/route-table.ts';
import { IdParams, page, PageQuery } from '../schemas/common.ts';
import { RepositoryVersion, VersionParams } from '../schemas/repositories.ts';
import { VersionDiff, VersionDiffQuery } from '../schemas/version-diff.ts';

const TAG = 'Repositories';

const versionHref = (repositoryId: string, number: number) => `${hrefOf('repositories', repositoryId)}/versions/${number}`;

function toVersion(row: VersionRow): z.input<typeof RepositoryVersion> {
  return {
    id: row.id,
    href: versionHref(row.repositoryId, row.number),
    repository: row.repositoryId,
    number: row.number,
    baseVersion: row.baseVersion,
    createdAt: row.createdAt.toISOString(),
  };
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
    async ({ params, query, req }) => toPage(req, query, await ctx.versions.list(params.id, query), toVersion),
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
      errors: ['VERSION_UNKNOWN'],
    },
    async ({ params }) => {
      const { version, content } = await ctx.versions.show(params.id, params.number);
      return { ...toVersion(version), content };
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
      errors: ['VERSION_PROTECTED', 'IN_USE', 'VERSION_UNKNOWN'],
    },
    async ({ params }) => ctx.versions.delete(params.id, params.number),
  );
  routes.add(
    {
      method: 'get',
      path: '/repositories/{id}/versions/{number}/diff',
      tag: TAG,
      summary: 'List what changed from a base version to this one, a page at a time',
      description:
        'Tags added, removed and moved (old → new digest), manifests added and removed with their classification, blobs added and removed with their size; the summary counts the whole diff. Any two stored versions compare, the base newer or older.',
      params: VersionParams,
      query: VersionDiffQuery,
      status: 200,
      response: VersionDiff,
      errors: ['VERSION_UNKNOWN'],
    },
    async ({ params, query, req }) => {
      const diff = await ctx.versions.diff(params.id, params.number, query);
      return {
        repository: diff.repositoryId,
        version: diff.version,
        base: diff.base,
        versionHref: versionHref(diff.repositoryId, diff.version),
        baseHref: versionHref(diff.repositoryId, diff.base),
        summary: diff.summary,
        changes: diff.changes,
        next: diff.next ? pageLink(req, { after: cursorText(diff.next), limit: String(query.limit) }) : null,
      };
    },
  );
}
