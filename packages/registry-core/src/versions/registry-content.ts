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

  snapshot(distribution: ServedDistribution): Promise<VersionSnapshot> {
    const content = distribution.content;
    if (!content) return Promise.resolve(EMPTY_SNAPSHOT);
    return this.snapshots.get(versionKey(content), () => loadVersionSnapshot(this.prisma, content.repositoryId, content.version));
  }

  /**
   * The manifest a GET or HEAD of `reference` answers with, after content
   * negotiation. Its `digest` is the one asked for (or the one its index lists
   * it by), whichever of its digests that is.
   */
  async manifest(distribution: ServedDistribution, reference: string, accept: string | undefined): Promise<StoredManifest> {
    const snapshot = await this.snapshot(distribution);
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

  async tags(distribution: ServedDistribution, request: PageRequest): Promise<Page<string>> {
    const snapshot = await this.snapshot(distribution);
    return pageOf(snapshot.tagNames, (t) => t, request);
  }

  /** Rejects with BLOB_UNKNOWN unless the version's manifests reference the blob. */
  async assertBlob(distribution: ServedDistribution, digest: string): Promise<void> {
    if (!isDigest(digest)) throw new RegistryError('DIGEST_INVALID', 'provided digest did not match uploaded content', { detail: { digest } });
    const snapshot = await this.snapshot(distribution);
    if (!snapshot.blobs.has(digest)) throw new RegistryError('BLOB_UNKNOWN', 'blob unknown to registry', { detail: { digest } });
  }

  async referrers(distribution: ServedDistribution, subject: string, artifactType: string | undefined, last: string | undefined): Promise<ReferrersPage> {
    if (!isDigest(subject)) throw new RegistryError('DIGEST_INVALID', 'invalid digest', { detail: { digest: subject } });
    const snapshot = await this.snapshot(distribution);
    const key = `${distribution.content ? versionKey(distribution.content) : 'empty'}|${subject}`;
    const all = await this.referrerLists.get(key, () => buildReferrers(snapshot, subject, this.manifests));
    const filtered = artifactType !== undefined && artifactType !== '';
    const matching = filtered ? all.filter((d) => d.artifactType === artifactType) : all;
    const n = String(Math.min(this.referrersPageSize, MAX_PAGE));
    return { ...pageOf(matching, (d) => d.digest, { n, last }), filtered };
  }
}

function unknownManifest(reference: string): RegistryError {
  return new RegistryError('MANIFEST_UNKNOWN', 'manifest unknown to registry', { detail: { reference } });
}

function versionKey(content: { repositoryId: string; version: number }): string {
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
