import type { PrismaClient } from '@cistern/db';
import { isDigest, isTag, type Descriptor } from '@cistern/oci';
import { LoadingCache } from '../cache/lru.ts';
import type { ServedDistribution } from '../distributions/distribution-directory.ts';
import { RegistryError } from '../errors/registry-error.ts';
import { DatabaseManifestStore, type ManifestStore, type StoredManifest } from './manifest-store.ts';
import { acceptedTypes, negotiate } from './negotiation.ts';
import { MAX_PAGE, pageOf, type Page, type PageRequest } from './paging.ts';
import { buildReferrers } from './referrers.ts';
import { EMPTY_SNAPSHOT, loadVersionSnapshot, memberDigest, type VersionSnapshot } from './version-snapshot.ts';

export interface RegistryContentOptions {
  /** Default: manifests from the database, cached by digest. */
  manifests?: ManifestStore;
  /** Repository versions kept in memory. */
  snapshotCacheSize?: number;
  /** Most referrers in one response before paging with Link. */
  referrersPageSize?: number;
}

export interface ReferrersPage extends Page<Descriptor> {
  /** Whether an artifactType filter was applied (the OCI-Filters-Applied header). */
  filtered: boolean;
}

/**
 * What one distribution (or one pull-through name) serves, as the routes ask
 * for it; every method rejects with a RegistryError for what is unknown or malformed.
 */
export interface ServedContent {
  /** The manifest a GET or HEAD of `reference` answers with, after content negotiation. */
  manifest(reference: string, accept: string | undefined): Promise<StoredManifest>;
  /** Rejects with BLOB_UNKNOWN (or DIGEST_INVALID) unless the blob may be pulled here. */
  assertBlob(digest: string): Promise<void>;
  tags(request: PageRequest): Promise<Page<string>>;
  referrers(subject: string, artifactType: string | undefined, last: string | undefined): Promise<ReferrersPage>;
}

/**
 * The read side of the Distribution API over repository versions: tag and
 * digest resolution, membership, tag pages and referrers. Every answer is
 * derived from an immutable version snapshot, cached by version.
 */
export class RegistryContent {
  readonly manifests: ManifestStore;
  private readonly snapshots: LoadingCache<string, VersionSnapshot>;
  private readonly referrerLists: LoadingCache<string, Descriptor[]>;
  private readonly referrersPageSize: number;

  constructor(
    private readonly prisma: PrismaClient,
    options: RegistryContentOptions = {},
  ) {
    this.manifests = options.manifests ?? new DatabaseManifestStore(prisma);
    this.snapshots = new LoadingCache(options.snapshotCacheSize ?? 64);
    this.referrerLists = new LoadingCache(4096);
    this.referrersPageSize = options.referrersPageSize ?? 1000;
  }

  /** What a distribution that serves a repository version (or nothing yet) serves. */
  of(distribution: ServedDistribution): ServedContent {
    const content = distribution.content;
    if (!content) return this.over(EMPTY_SNAPSHOT, 'empty');
    return this.lazy(() => this.versionSnapshot(content.repositoryId, content.version), versionKey(content));
  }

  /** One repository version, loaded once and kept while it is used. */
  versionSnapshot(repositoryId: string, version: number): Promise<VersionSnapshot> {
    const key = versionKey({ repositoryId, version });
    return this.snapshots.get(key, () => loadVersionSnapshot(this.prisma, repositoryId, version));
  }

  /** What `snapshot` serves; `key` names it uniquely (it keys the referrer lists kept in memory). */
  over(snapshot: VersionSnapshot, key: string): ServedContent {
    return this.lazy(() => Promise.resolve(snapshot), key);
  }

  private lazy(load: () => Promise<VersionSnapshot>, key: string): ServedContent {
    return {
      manifest: async (reference, accept) => this.manifest(await load(), reference, accept),
      assertBlob: async (digest) => {
        assertDigest(digest, 'provided digest did not match uploaded content');
        if (!(await load()).blobs.has(digest)) throw new RegistryError('BLOB_UNKNOWN', 'blob unknown to registry', { detail: { digest } });
      },
      tags: async (request) => pageOf((await load()).tagNames, (t) => t, request),
      referrers: async (subject, artifactType, last) => {
        assertDigest(subject);
        const snapshot = await load();
        const all = await this.referrerLists.get(`${key}|${subject}`, () => buildReferrers(snapshot, subject, this.manifests));
        return referrersPage(all, artifactType, last, this.referrersPageSize);
      },
    };
  }

  /**
   * The manifest a GET or HEAD of `reference` answers with, after content
   * negotiation. Its `digest` is the one asked for (or the one its index lists
   * it by), whichever of its digests that is.
   */
  private async manifest(snapshot: VersionSnapshot, reference: string, accept: string | undefined): Promise<StoredManifest> {
    const digest = resolveReference(snapshot, reference);
    if (digest === undefined) throw unknownManifest(reference);
    const stored = await this.member(snapshot, digest, reference);
    const choice = negotiate(stored, acceptedTypes(accept), (d) => memberDigest(snapshot, d) !== undefined);
    if (choice.serve === 'stored') return stored;
    return this.member(snapshot, choice.digest, reference);
  }

  /** The version's manifest known by `digest`, served under that digest. */
  private async member(snapshot: VersionSnapshot, digest: string, reference: string): Promise<StoredManifest> {
    const canonical = memberDigest(snapshot, digest);
    const stored = canonical === undefined ? null : await this.manifests.get(canonical);
    if (!stored) throw unknownManifest(reference);
    return digest === stored.digest ? stored : { ...stored, digest };
  }
}

/**
 * One page of referrers (sorted by digest), at most `pageSize` long, only
 * those of `artifactType` when one is given (and then `filtered`, for the
 * OCI-Filters-Applied header).
 */
export function referrersPage(all: readonly Descriptor[], artifactType: string | undefined, last: string | undefined, pageSize: number): ReferrersPage {
  const filtered = artifactType !== undefined && artifactType !== '';
  const matching = filtered ? all.filter((d) => d.artifactType === artifactType) : all;
  const n = String(Math.min(pageSize, MAX_PAGE));
  return { ...pageOf(matching, (d) => d.digest, { n, last }), filtered };
}

function assertDigest(digest: string, message = 'invalid digest'): void {
  if (!isDigest(digest)) throw new RegistryError('DIGEST_INVALID', message, { detail: { digest } });
}

/** MANIFEST_UNKNOWN for `reference`: what every read of a manifest the content lacks answers. */
export function unknownManifest(reference: string): RegistryError {
  return new RegistryError('MANIFEST_UNKNOWN', 'manifest unknown to registry', { detail: { reference } });
}

/** How a repository version is named in caches: `<repository id>@<version>`. */
export function versionKey(content: { repositoryId: string; version: number }): string {
  return `${content.repositoryId}@${content.version}`;
}

/** A digest is returned as given (membership is checked by the caller); a tag must be one of the version's tags. */
function resolveReference(snapshot: VersionSnapshot, reference: string): string | undefined {
  if (reference.includes(':')) {
    if (!isDigest(reference)) throw new RegistryError('DIGEST_INVALID', 'invalid digest', { detail: { digest: reference } });
    return reference;
  }
  if (!isTag(reference)) throw new RegistryError('TAG_INVALID', 'invalid tag', { detail: { tag: reference } });
  return snapshot.tags.get(reference);
}
