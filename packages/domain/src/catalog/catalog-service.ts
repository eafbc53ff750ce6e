import { manifestKnownBy, type Blob, type Prisma, type PrismaClient, type RepositoryTag } from '@cistern/db';
import { found } from '../shared/not-found.ts';
import { listPage, pageArgs, type Page, type PageRequest } from '../shared/paging.ts';
import { manifestSelect, summarize, type ManifestSummary } from './manifest-summary.ts';
import { versionFilter, type InRepository } from './version-filter.ts';

/** Filters of the manifest list; undefined parts filter nothing. */
export interface ManifestFilter extends InRepository {
  /** Any digest the manifest is known by. */
  digest?: string;
  mediaType?: string;
  classification?: string;
  artifactType?: string;
}

/** Filters of a manifest's referrers. */
export interface ReferrerFilter extends InRepository {
  artifactType?: string;
}

/** Filters of the blob list. */
export interface BlobFilter extends InRepository {
  digest?: string;
}

/** Filters of the tag list (membership rows of every version unless one is named). */
export interface TagFilter extends InRepository {
  /** The digest the tag points at. */
  digest?: string;
  name?: string;
  name__contains?: string;
}

/**
 * The content Cistern stores, shared by every repository: manifests (by
 * digest), their referrers, blobs and tag rows, each list narrowed to a
 * repository or a version of it as versionFilter says (and fails).
 */
export interface CatalogService {
  /** Ordered by digest. */
  listManifests(filter: ManifestFilter, page: PageRequest): Promise<Page<ManifestSummary>>;
  /** By any digest it is known by; NOT_FOUND when none. */
  getManifest(digest: string): Promise<ManifestSummary>;
  /** The manifests whose subject is the manifest known by `digest`, whichever of its digests they name; ordered by digest. */
  listReferrers(digest: string, filter: ReferrerFilter, page: PageRequest): Promise<Page<ManifestSummary>>;
  /** Ordered by digest. */
  listBlobs(filter: BlobFilter, page: PageRequest): Promise<Page<Blob>>;
  /** Tag membership rows, ordered by name, then by the version that added them. */
  listTags(filter: TagFilter, page: PageRequest): Promise<Page<RepositoryTag>>;
}

/** The CatalogService over `prisma`. */
export function catalogService({ prisma }: { prisma: PrismaClient }): CatalogService {
  const manifests = async (where: Prisma.ManifestWhereInput, page: PageRequest) => {
    const { count, rows } = await listPage(
      prisma.manifest.count({ where }),
      prisma.manifest.findMany({ where, select: manifestSelect, orderBy: { digest: 'asc' }, ...pageArgs(page) }),
    );
    return { count, rows: await summarize(prisma, rows) };
  };

  return {
    listManifests: async (filter, page) => {
      const inVersion = await versionFilter(prisma, filter);
      return manifests(
        {
          ...(filter.digest === undefined ? {} : manifestKnownBy(filter.digest)),
          mediaType: filter.mediaType,
          classification: filter.classification,
          artifactType: filter.artifactType,
          ...(inVersion ? { repositories: { some: inVersion } } : {}),
        },
        page,
      );
    },
    getManifest: async (digest) => {
      const row = found(await prisma.manifest.findFirst({ where: manifestKnownBy(digest), select: manifestSelect }), 'manifest', digest);
      const [manifest] = await summarize(prisma, [row]);
      return manifest as ManifestSummary;
    },
    listReferrers: async (digest, filter, page) => {
      const inVersion = await versionFilter(prisma, filter);
      // A referrer names its subject by any of the subject's digests.
      const subject = await prisma.manifest.findFirst({ where: manifestKnownBy(digest), select: { digest: true, aliases: { select: { digest: true } } } });
      return manifests(
        {
          subjectDigest: { in: subject ? [subject.digest, ...subject.aliases.map((a) => a.digest)] : [digest] },
          artifactType: filter.artifactType,
          ...(inVersion ? { repositories: { some: inVersion } } : {}),
        },
        page,
      );
    },
    listBlobs: async (filter, page) => {
      const inVersion = await versionFilter(prisma, filter);
      const where = {
        digest: filter.digest,
        ...(inVersion ? { manifests: { some: { manifest: { repositories: { some: inVersion } } } } } : {}),
      };
      return listPage(prisma.blob.count({ where }), prisma.blob.findMany({ where, orderBy: { digest: 'asc' }, ...pageArgs(page) }));
    },
    listTags: async (filter, page) => {
      const inVersion = await versionFilter(prisma, filter);
      const where = {
        manifestDigest: filter.digest,
        name: { equals: filter.name, contains: filter.name__contains },
        ...inVersion,
      };
      return listPage(
        prisma.repositoryTag.count({ where }),
        prisma.repositoryTag.findMany({ where, orderBy: [{ name: 'asc' }, { versionAdded: 'asc' }], ...pageArgs(page) }),
      );
    },
  };
}
