import type { Blob as BlobRow, RepositoryTag } from '@cistern/db';
import type { ManifestSummary } from '@cistern/domain';
import type { z } from 'zod';
import { API_PREFIX, type ApiContext } from '../context.ts';
import { toPage } from '../http/pagination.ts';
import type { RouteTable } from '../http/route-table.ts';
import { page } from '../schemas/common.ts';
import { Blob, BlobListQuery, DigestParams, Manifest, ManifestListQuery, ReferrersQuery, Tag, TagListQuery } from '../schemas/content.ts';

const TAG = 'Content';

function toManifest(row: ManifestSummary): z.input<typeof Manifest> {
  const href = `${API_PREFIX}/content/manifests/${row.digest}`;
  return {
    digest: row.digest,
    aliases: row.aliases,
    href,
    mediaType: row.mediaType,
    artifactType: row.artifactType,
    classification: row.classification,
    size: Number(row.size),
    subject: row.subjectDigest,
    configDigest: row.configDigest,
    platforms: row.platforms,
    referrersHref: `${href}/referrers`,
    createdAt: row.createdAt.toISOString(),
  };
}

const toBlob = (b: BlobRow): z.input<typeof Blob> => ({
  digest: b.digest,
  size: Number(b.size),
  mediaType: b.mediaType,
  stored: b.stored,
  createdAt: b.createdAt.toISOString(),
});

const toTag = (t: RepositoryTag): z.input<typeof Tag> => ({
  name: t.name,
  manifest: t.manifestDigest,
  repository: t.repositoryId,
  versionAdded: t.versionAdded,
  versionRemoved: t.versionRemoved,
});

export function contentRoutes(routes: RouteTable, ctx: ApiContext): void {
  routes.add(
    {
      method: 'get',
      path: '/content/manifests',
      tag: TAG,
      summary: 'List manifests',
      query: ManifestListQuery,
      status: 200,
      response: page(Manifest),
      errors: ['INVALID_REFERENCE'],
    },
    async ({ query, req }) => toPage(req, query, await ctx.catalog.listManifests(query, query), toManifest),
  );
  routes.add(
    { method: 'get', path: '/content/manifests/{digest}', tag: TAG, summary: 'Show a manifest', params: DigestParams, status: 200, response: Manifest },
    async ({ params }) => toManifest(await ctx.catalog.getManifest(params.digest)),
  );
  routes.add(
    {
      method: 'get',
      path: '/content/manifests/{digest}/referrers',
      tag: TAG,
      summary: 'List the manifests whose subject is this digest',
      params: DigestParams,
      query: ReferrersQuery,
      status: 200,
      response: page(Manifest),
      errors: ['INVALID_REFERENCE'],
    },
    async ({ params, query, req }) => toPage(req, query, await ctx.catalog.listReferrers(params.digest, query, query), toManifest),
  );
  routes.add(
    {
      method: 'get',
      path: '/content/blobs',
      tag: TAG,
      summary: 'List blobs',
      query: BlobListQuery,
      status: 200,
      response: page(Blob),
      errors: ['INVALID_REFERENCE'],
    },
    async ({ query, req }) => toPage(req, query, await ctx.catalog.listBlobs(query, query), toBlob),
  );
  routes.add(
    {
      method: 'get',
      path: '/content/tags',
      tag: TAG,
      summary: 'List tags',
      query: TagListQuery,
      status: 200,
      response: page(Tag),
      errors: ['INVALID_REFERENCE'],
    },
    async ({ query, req }) => toPage(req, query, await ctx.catalog.listTags(query, query), toTag),
  );
}
