import { manifestKnownBy, type Manifest as ManifestRow, type Prisma } from '@cistern/db';
import type { z } from 'zod';
import { API_PREFIX, type ApiContext } from '../context.ts';
import { notFound } from '../errors/api-error.ts';
import { pageArgs, toPage } from '../http/pagination.ts';
import type { RouteTable } from '../http/route-table.ts';
import { page } from '../schemas/common.ts';
import { Blob, BlobListQuery, DigestParams, Manifest, ManifestListQuery, ReferrersQuery, Tag, TagListQuery } from '../schemas/content.ts';
import { assertExists } from './references.ts';
import { presentIn } from './version-content.ts';

const TAG = 'Content';
const manifestSelect = {
  digest: true,
  aliases: { select: { digest: true }, orderBy: { digest: 'asc' } },
  mediaType: true,
  artifactType: true,
  classification: true,
  size: true,
  subjectDigest: true,
  configDigest: true,
  createdAt: true,
} as const;
type ManifestFields = Pick<ManifestRow, Exclude<keyof typeof manifestSelect, 'aliases'>> & { aliases: { digest: string }[] };

/** Range membership of one repository version, for content filters. */
async function versionFilter(ctx: ApiContext, versionId: string | undefined) {
  if (!versionId) return undefined;
  await assertExists(ctx, 'repositoryVersion', versionId, 'query.repositoryVersion');
  const version = await ctx.prisma.repositoryVersion.findUniqueOrThrow({ where: { id: versionId } });
  return { repositoryId: version.repositoryId, ...presentIn(version.number) };
}

/** An index's entries' platforms, and for an image the platforms it is listed under. */
async function withPlatforms(ctx: ApiContext, rows: ManifestFields[]): Promise<z.input<typeof Manifest>[]> {
  const digests = rows.map((r) => r.digest);
  // An index may list an image by any of its digests.
  const names = rows.flatMap((r) => [r.digest, ...r.aliases.map((a) => a.digest)]);
  const links = await ctx.prisma.manifestChild.findMany({
    where: { platform: { not: null }, OR: [{ indexDigest: { in: digests } }, { childDigest: { in: names } }] },
    select: { indexDigest: true, childDigest: true, platform: true },
  });
  return rows.map((row) => {
    const href = `${API_PREFIX}/content/manifests/${row.digest}`;
    const aliases = row.aliases.map((a) => a.digest);
    const own = links.filter((l) => l.indexDigest === row.digest || l.childDigest === row.digest || aliases.includes(l.childDigest)).map((l) => l.platform as string);
    return {
      digest: row.digest,
      aliases,
      href,
      mediaType: row.mediaType,
      artifactType: row.artifactType,
      classification: row.classification,
      size: Number(row.size),
      subject: row.subjectDigest,
      configDigest: row.configDigest,
      platforms: [...new Set(own)].sort(),
      referrersHref: `${href}/referrers`,
      createdAt: row.createdAt.toISOString(),
    };
  });
}

async function listManifests(ctx: ApiContext, where: Prisma.ManifestWhereInput, query: { limit: number; offset: number }) {
  const [count, rows] = await Promise.all([
    ctx.prisma.manifest.count({ where }),
    ctx.prisma.manifest.findMany({ where, select: manifestSelect, orderBy: { digest: 'asc' }, ...pageArgs(query) }),
  ]);
  return { count, rows: await withPlatforms(ctx, rows) };
}

export function contentRoutes(routes: RouteTable, ctx: ApiContext): void {
  routes.add(
    { method: 'get', path: '/content/manifests', tag: TAG, summary: 'List manifests', query: ManifestListQuery, status: 200, response: page(Manifest), errors: ['INVALID_REFERENCE'] },
    async ({ query, req }) => {
      const inVersion = await versionFilter(ctx, query.repositoryVersion);
      const where: Prisma.ManifestWhereInput = {
        ...(query.digest === undefined ? {} : manifestKnownBy(query.digest)),
        mediaType: query.mediaType,
        classification: query.classification,
        artifactType: query.artifactType,
        ...(inVersion ? { repositories: { some: inVersion } } : {}),
      };
      const { count, rows } = await listManifests(ctx, where, query);
      return toPage(req, query, count, rows);
    },
  );
  routes.add(
    { method: 'get', path: '/content/manifests/{digest}', tag: TAG, summary: 'Show a manifest', params: DigestParams, status: 200, response: Manifest },
    async ({ params }) => {
      const row = await ctx.prisma.manifest.findFirst({ where: manifestKnownBy(params.digest), select: manifestSelect });
      if (!row) throw notFound('manifest', params.digest);
      const [manifest] = await withPlatforms(ctx, [row]);
      return manifest as z.input<typeof Manifest>;
    },
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
    async ({ params, query, req }) => {
      const inVersion = await versionFilter(ctx, query.repositoryVersion);
      // A referrer names its subject by any of the subject's digests.
      const subject = await ctx.prisma.manifest.findFirst({ where: manifestKnownBy(params.digest), select: { digest: true, aliases: { select: { digest: true } } } });
      const where: Prisma.ManifestWhereInput = {
        subjectDigest: { in: subject ? [subject.digest, ...subject.aliases.map((a) => a.digest)] : [params.digest] },
        artifactType: query.artifactType,
        ...(inVersion ? { repositories: { some: inVersion } } : {}),
      };
      const { count, rows } = await listManifests(ctx, where, query);
      return toPage(req, query, count, rows);
    },
  );
  routes.add(
    { method: 'get', path: '/content/blobs', tag: TAG, summary: 'List blobs', query: BlobListQuery, status: 200, response: page(Blob), errors: ['INVALID_REFERENCE'] },
    async ({ query, req }) => {
      const inVersion = await versionFilter(ctx, query.repositoryVersion);
      const where: Prisma.BlobWhereInput = {
        digest: query.digest,
        ...(inVersion ? { manifests: { some: { manifest: { repositories: { some: inVersion } } } } } : {}),
      };
      const [count, rows] = await Promise.all([
        ctx.prisma.blob.count({ where }),
        ctx.prisma.blob.findMany({ where, orderBy: { digest: 'asc' }, ...pageArgs(query) }),
      ]);
      const results = rows.map((b) => ({ digest: b.digest, size: Number(b.size), mediaType: b.mediaType, stored: b.stored, createdAt: b.createdAt.toISOString() }));
      return toPage(req, query, count, results);
    },
  );
  routes.add(
    { method: 'get', path: '/content/tags', tag: TAG, summary: 'List tags', query: TagListQuery, status: 200, response: page(Tag), errors: ['INVALID_REFERENCE'] },
    async ({ query, req }) => {
      const inVersion = await versionFilter(ctx, query.repositoryVersion);
      const where: Prisma.RepositoryTagWhereInput = {
        repositoryId: query.repository,
        manifestDigest: query.digest,
        name: { equals: query.name, contains: query.name__contains },
        ...inVersion,
      };
      const [count, rows] = await Promise.all([
        ctx.prisma.repositoryTag.count({ where }),
        ctx.prisma.repositoryTag.findMany({ where, orderBy: [{ name: 'asc' }, { versionAdded: 'asc' }], ...pageArgs(query) }),
      ]);
      const results = rows.map((t) => ({
        name: t.name,
        manifest: t.manifestDigest,
        repository: t.repositoryId,
        versionAdded: t.versionAdded,
        versionRemoved: t.versionRemoved,
      }));
      return toPage(req, query, count, results);
    },
  );
}
