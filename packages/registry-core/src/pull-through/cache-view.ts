import { createHash } from 'node:crypto';
import type { PrismaClient } from '@cistern/db';
import { LoadingCache } from '../cache/lru.ts';
import { versionKey } from '../versions/registry-content.ts';
import { byteOrder, type VersionSnapshot } from '../versions/version-snapshot.ts';

/** A PendingCacheWrite row as the view reads it. */
interface PendingWrite {
  id: bigint;
  manifestDigest: string | null;
  tag: string | null;
}

/** A cache repository as pulls see it: its latest version with its pending writes laid over. */
export interface CacheView {
  repositoryId: string;
  snapshot: VersionSnapshot;
  /** Names this exact content (version and pending rows): what caches derived from it are keyed by. */
  key: string;
}

/**
 * Pending rows read per view at most: the background writer keeps far fewer
 * (it flushes every few seconds); past it, the newest rows are served only
 * once written, and until then their pulls go upstream again.
 */
const MAX_PENDING = 10_000;

/**
 * Loads cache repositories' views: the repository and its pending rows read
 * in one snapshot; the version's snapshot comes from `versions` (cached by
 * version), and what the pending manifests add (blobs, aliases, subjects) is
 * read once per distinct set of pending rows.
 */
export class CacheViews {
  private readonly overlays = new LoadingCache<string, VersionSnapshot>(256);

  constructor(
    private readonly prisma: PrismaClient,
    private readonly versions: (repositoryId: string, version: number) => Promise<VersionSnapshot>,
  ) {}

  /** The view of the cache repository of (distribution, upstream name); null before its first successful pull. */
  async load(distributionId: string, upstreamName: string): Promise<CacheView | null> {
    // One snapshot for both reads: a flush committing its version and deleting its rows in between would otherwise
    // leave an older version without the rows it took in (a removed tag served again, a cached one fetched again).
    const [repository, pending] = await this.prisma.$transaction(
      [
        this.prisma.repository.findUnique({
          where: { pullThroughId_upstreamName: { pullThroughId: distributionId, upstreamName } },
          select: { id: true, latestVersion: true },
        }),
        this.prisma.pendingCacheWrite.findMany({
          where: { repository: { pullThroughId: distributionId, upstreamName } },
          orderBy: { id: 'asc' },
          take: MAX_PENDING,
          select: { id: true, manifestDigest: true, tag: true },
        }),
      ],
      { isolationLevel: 'RepeatableRead' },
    );
    if (!repository) return null;
    const base = await this.versions(repository.id, repository.latestVersion);
    const version = versionKey({ repositoryId: repository.id, version: repository.latestVersion });
    if (pending.length === 0) return { repositoryId: repository.id, snapshot: base, key: version };
    // Every row's id, not the newest alone: a row may take a lower id than one already read and commit after it.
    const key = `${version}+${createHash('sha256')
      .update(pending.map((row) => row.id).join(','))
      .digest('hex')}`;
    return { repositoryId: repository.id, snapshot: await this.overlays.get(key, () => this.overlay(base, pending)), key };
  }

  private async overlay(base: VersionSnapshot, pending: readonly PendingWrite[]): Promise<VersionSnapshot> {
    const digests = [...new Set(pending.flatMap((row) => (row.manifestDigest === null ? [] : [row.manifestDigest])))];
    const [blobRows, aliasRows, subjectRows] = await Promise.all([
      this.prisma.manifestBlob.findMany({ where: { manifestDigest: { in: digests } }, select: { blobDigest: true }, distinct: ['blobDigest'] }),
      this.prisma.manifestAlias.findMany({ where: { manifestDigest: { in: digests } }, select: { digest: true, manifestDigest: true } }),
      this.prisma.manifest.findMany({ where: { digest: { in: digests }, subjectDigest: { not: null } }, select: { digest: true, subjectDigest: true } }),
    ]);
    return overlay(base, pending, {
      blobs: blobRows.map((row) => row.blobDigest),
      aliases: aliasRows.map((row) => [row.digest, row.manifestDigest] as const),
      subjects: subjectRows.map((row) => [row.digest, row.subjectDigest ?? ''] as const),
    });
  }
}

/** What the pending manifests add besides themselves. */
interface PendingContent {
  blobs: readonly string[];
  aliases: readonly (readonly [string, string])[];
  /** [referrer, subject] */
  subjects: readonly (readonly [string, string])[];
}

/**
 * `base` with the pending rows applied in order, as the background writer
 * will write them: a row with a tag sets it (with a manifest) or removes it
 * (without one), a row with a manifest adds it.
 */
function overlay(base: VersionSnapshot, pending: readonly PendingWrite[], added: PendingContent): VersionSnapshot {
  const tags = new Map(base.tags);
  const manifests = new Set(base.manifests);
  for (const row of pending) {
    if (row.manifestDigest !== null) manifests.add(row.manifestDigest);
    if (row.tag === null) continue;
    if (row.manifestDigest === null) tags.delete(row.tag);
    else tags.set(row.tag, row.manifestDigest);
  }
  const referrers = new Map<string, readonly string[]>(base.referrers);
  for (const [referrer, subject] of added.subjects) {
    const known = referrers.get(subject) ?? [];
    if (!known.includes(referrer)) referrers.set(subject, [...known, referrer]);
  }
  return {
    tagNames: [...tags.keys()].sort(byteOrder),
    tags,
    manifests,
    aliases: new Map([...base.aliases, ...added.aliases]),
    blobs: new Set([...base.blobs, ...added.blobs]),
    referrers,
  };
}
