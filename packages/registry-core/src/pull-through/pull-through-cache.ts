import type { Logger } from '@cistern/config';
import { ContentHolds, saveManifests, type PrismaClient } from '@cistern/db';
import { manifestBlobs, recordRemoteArtifacts, schema1Sizes, toManifestRecord } from '@cistern/ingest';
import { evaluatePolicy, isDigest, isTag, parseManifest, type ParsedManifest } from '@cistern/oci';
import { coalesce, type ResourceLocks } from '@cistern/redis-lock';
import { loadPolicy } from '@cistern/settings';
import type { BlobStatter } from '@cistern/storage';
import { isUpstreamError, type FetchedManifest } from '@cistern/upstream';
import type { RemoteSources } from '../blobs/remote-sources.ts';
import { upstreamFailure } from '../blobs/upstream-failure.ts';
import type { Route } from '../distributions/distribution-directory.ts';
import { RegistryError } from '../errors/registry-error.ts';
import type { StoredManifest } from '../versions/manifest-store.ts';
import { pageOf, type Page, type PageRequest } from '../versions/paging.ts';
import { buildReferrers } from '../versions/referrers.ts';
import { referrersPage, unknownManifest, type ReferrersPage, type RegistryContent, type ServedContent } from '../versions/registry-content.ts';
import { memberDigest } from '../versions/version-snapshot.ts';
import { ensureCacheRepository } from './cache-repositories.ts';
import { CacheViews, type CacheView } from './cache-view.ts';
import type { Freshness, PullThroughMarks } from './pull-through-marks.ts';
import { pullThroughCoalesced, pullThroughRechecks, pullThroughRequests } from './pull-through-metrics.ts';
import type { UpstreamLists } from './upstream-lists.ts';
import { PullContexts, type PullContext } from './pull-context.ts';

export interface PullThroughOptions {
  prisma: PrismaClient;
  /** The read side shared with repository distributions: version snapshots, manifests, negotiation. */
  content: RegistryContent;
  /** Upstream clients per remote and upstream name (shared with on-demand blob fetches). */
  remotes: RemoteSources;
  /** Redis locks shared by every registry process: one upstream request per object across all of them. */
  locks: ResourceLocks;
  marks: PullThroughMarks;
  /** Upstream tag and referrer lists, with the cache's own as their fallback. */
  lists: UpstreamLists;
  /** The local store: a blob pull is a hit when the blob is in it. */
  local: BlobStatter;
  logger: Logger;
  maxManifestBytes: number;
  /** Longest wait for the upstream's answer to a re-check (ms); then the cached manifest is served. */
  recheckTimeoutMs: number;
  /** How long an upstream 404 is remembered (seconds). */
  negativeTtlSeconds: number;
  /** How long a remote's settings are reused (ms); default 1 s. */
  remoteTtlMs?: number;
  /** How often a pull waiting on another's upstream request looks whether it is done (ms); default 50. */
  pollMs?: number;
  /** Longest wait on another's upstream request (ms); default 60 s. */
  waitTimeoutMs?: number;
  /** Most referrers in one response before paging with Link. */
  referrersPageSize?: number;
}

/**
 * How long an upstream failure of a fetch (unreachable, 5xx, 429) is given
 * again without asking (seconds): long enough that a burst of pulls makes one
 * upstream request, short enough that a recovered upstream is used at once.
 */
const FAILURE_MEMORY_SECONDS = 5;

/**
 * Serves pull-through names (README, "Pull-through cache"): a manifest the
 * cache lacks is fetched upstream once (across processes), verified, checked
 * against the remote's rules and the media-type policy, stored with its blobs
 * recorded as remote artifacts, put in a pending write of its cache repository
 * (which the background writer turns into a version), and served. A cached tag
 * is re-checked with a HEAD once its TTL ran out; a failed re-check serves it
 * stale; an upstream 404 is remembered briefly. Blob pulls stream through the
 * on-demand reader from the recorded remote artifacts.
 */
export class PullThroughCache {
  private readonly views: CacheViews;
  private readonly contexts: PullContexts;
  private readonly pollMs: number;
  private readonly waitTimeoutMs: number;

  constructor(private readonly options: PullThroughOptions) {
    this.views = new CacheViews(options.prisma, (id, version) => options.content.versionSnapshot(id, version));
    this.contexts = new PullContexts(options.prisma, options.remotes, options.remoteTtlMs);
    this.pollMs = options.pollMs ?? 50;
    this.waitTimeoutMs = options.waitTimeoutMs ?? 60_000;
  }

  /** What a pull-through route serves. */
  of(route: Route): ServedContent {
    return {
      manifest: (reference, accept) => this.manifest(route, reference, accept),
      assertBlob: (digest) => this.assertBlob(route, digest),
      tags: (request) => this.tags(route, request),
      referrers: (subject, artifactType, last) => this.referrers(route, subject, artifactType, last),
    };
  }

  private async manifest(route: Route, reference: string, accept: string | undefined): Promise<StoredManifest> {
    const isTagReference = !reference.includes(':');
    if (isTagReference && !isTag(reference)) throw new RegistryError('TAG_INVALID', 'invalid tag', { detail: { tag: reference } });
    if (!isTagReference && !isDigest(reference)) throw new RegistryError('DIGEST_INVALID', 'invalid digest', { detail: { digest: reference } });
    const pull = await this.contexts.of(route);
    pull.rules.assertReference(reference, isTagReference);
    const view = await this.view(pull);
    if (view && holds(view, reference)) {
      // A digest names immutable content: only tags are ever re-checked.
      if (!isTagReference) return this.serve(view, reference, accept, 'hit');
      const freshness = await this.options.marks.freshness(view.repositoryId, reference);
      if (freshness !== null) return this.serve(view, reference, accept, served(freshness));
      await this.assertNotRefused(pull, reference);
      return this.recheck(pull, view, reference, accept);
    }
    return this.miss(pull, reference, accept);
  }

  /**
   * A reference the cache lacks: one upstream GET across every process; the
   * others wait for it and serve what it stored, or give its remembered
   * answer when it failed (see `fetch`).
   */
  private async miss(pull: PullContext, reference: string, accept: string | undefined): Promise<StoredManifest> {
    const { locks } = this.options;
    await this.assertNoVerdict(pull, reference);
    return coalesce(locks, `pull-through:manifest:${pull.distribution.id}:${pull.upstreamName}:${reference}`, {
      ready: async () => {
        await this.assertNoVerdict(pull, reference);
        const view = await this.view(pull);
        return view && holds(view, reference) ? this.serve(view, reference, accept, 'hit') : undefined;
      },
      work: (lock) => this.fetch(pull, reference, accept).finally(() => lock.release().catch(() => undefined)),
      onWait: () => pullThroughCoalesced.inc({ object: 'manifest' }),
      pollMs: this.pollMs,
      timeoutMs: this.waitTimeoutMs,
      timedOut: () => new RegistryError('UNAVAILABLE', 'timed out waiting for another request to fetch the manifest', { detail: { reference } }),
    });
  }

  /** Rejects with the remembered answer of a failed fetch of the reference, counted as `negative`, without asking upstream. */
  private async assertNoVerdict(pull: PullContext, reference: string): Promise<void> {
    const verdict = await this.options.marks.verdict(pull.distribution.id, pull.upstreamName, reference);
    if (!verdict) return;
    pullThroughRequests.inc({ object: 'manifest', result: 'negative' });
    throw verdict;
  }

  /**
   * Rejects with a remembered refusal of a cached tag (it moved upstream to
   * content the cache refuses) until the negative TTL runs out; an upstream
   * failure remembered for it does not count: the cached manifest is served
   * stale then.
   */
  private async assertNotRefused(pull: PullContext, tag: string): Promise<void> {
    const verdict = await this.options.marks.verdict(pull.distribution.id, pull.upstreamName, tag);
    if (verdict?.code === 'DENIED') throw verdict;
  }

  /**
   * Remembers why a fetch of the reference failed, so that retries and
   * waiting pulls get the answer without asking upstream: gone (404) and
   * refused (DENIED) for the negative TTL, an upstream failure (unreachable,
   * 5xx, 429) for FAILURE_MEMORY_SECONDS. Returns the error to throw.
   */
  private async remember(pull: PullContext, reference: string, error: RegistryError): Promise<RegistryError> {
    const seconds = ['MANIFEST_UNKNOWN', 'DENIED'].includes(error.code)
      ? this.options.negativeTtlSeconds
      : ['UNAVAILABLE', 'TOOMANYREQUESTS'].includes(error.code)
        ? Math.min(FAILURE_MEMORY_SECONDS, this.options.negativeTtlSeconds)
        : 0;
    await this.options.marks.remember(pull.distribution.id, pull.upstreamName, reference, error, seconds);
    return error;
  }

  private async fetch(pull: PullContext, reference: string, accept: string | undefined): Promise<StoredManifest> {
    let fetched: FetchedManifest;
    try {
      fetched = await pull.client.getManifest(reference);
    } catch (error) {
      throw await this.remember(pull, reference, upstreamFailure(error, { manifest: reference }));
    }
    const tag = isTag(reference) ? reference : null;
    let repositoryId: string;
    try {
      repositoryId = await this.store(pull, fetched, tag);
    } catch (error) {
      if (error instanceof RegistryError && error.code === 'DENIED') throw await this.remember(pull, reference, error);
      throw error;
    }
    if (tag !== null) await this.options.marks.mark(repositoryId, tag, 'fresh', pull.ttlMs);
    return this.serve(await this.cached(pull), reference, accept, 'miss');
  }

  /** A cached tag whose freshness ran out: one upstream HEAD across every process; the others wait for its verdict. */
  private async recheck(pull: PullContext, view: CacheView, tag: string, accept: string | undefined): Promise<StoredManifest> {
    const { marks, locks } = this.options;
    return coalesce(locks, `pull-through:recheck:${view.repositoryId}:${tag}`, {
      ready: async () => {
        const freshness = await marks.freshness(view.repositoryId, tag);
        if (freshness !== null) return this.serve(await this.cached(pull), tag, accept, served(freshness));
        // A re-check that found the tag moved to refused content marks nothing fresh: its waiters take its refusal, not a turn upstream.
        await this.assertNotRefused(pull, tag);
        return undefined;
      },
      work: (lock) => this.revalidate(pull, view, tag, accept).finally(() => lock.release().catch(() => undefined)),
      onWait: () => pullThroughCoalesced.inc({ object: 'recheck' }),
      pollMs: this.pollMs,
      timeoutMs: this.waitTimeoutMs,
      timedOut: () => new RegistryError('UNAVAILABLE', 'timed out waiting for another request to re-check the tag', { detail: { tag } }),
    });
  }

  /**
   * HEADs the tag upstream (within the re-check timeout). Unchanged: fresh for
   * another TTL. Moved: the new target is fetched and stored. Gone (404): a
   * pending removal of the tag, remembered as a 404. Any other failure
   * (unreachable, slow, 429, 5xx): the cached manifest is served, marked stale
   * for a TTL, and logged once for it.
   */
  private async revalidate(pull: PullContext, view: CacheView, tag: string, accept: string | undefined): Promise<StoredManifest> {
    const { marks, prisma } = this.options;
    const repositoryId = view.repositoryId;
    const cachedDigest = view.snapshot.tags.get(tag);
    // undefined: the tag still names the cached manifest.
    let fetched: FetchedManifest | undefined;
    try {
      // One deadline for the HEAD and, when the tag moved, the GET of its new target.
      const timed = pull.client.withSignal(AbortSignal.timeout(this.options.recheckTimeoutMs));
      const info = await timed.headManifest(tag);
      const unchanged = info.digest === cachedDigest || memberDigest(view.snapshot, info.digest) === cachedDigest;
      if (!unchanged) fetched = info.bytes === undefined ? await timed.getManifest(info.digest) : { ...info, bytes: info.bytes };
    } catch (error) {
      if (isUpstreamError(error, 'MANIFEST_UNKNOWN', 'NAME_UNKNOWN')) {
        pullThroughRechecks.inc({ outcome: 'gone' });
        await prisma.pendingCacheWrite.create({ data: { repositoryId, tag, manifestDigest: null } });
        // Waiters read the verdict from the view, which no longer has the tag.
        await marks.mark(repositoryId, tag, 'fresh', pull.ttlMs);
        throw await this.remember(pull, tag, unknownManifest(tag));
      }
      pullThroughRechecks.inc({ outcome: 'failed' });
      this.options.logger.warn(
        { err: error, distribution: pull.distribution.name, upstreamName: pull.upstreamName, tag, staleForMs: pull.ttlMs },
        'pull-through re-check failed: serving the cached manifest (stale-if-error)',
      );
      await marks.mark(repositoryId, tag, 'stale', pull.ttlMs);
      return this.serve(view, tag, accept, 'stale');
    }
    if (fetched === undefined) {
      pullThroughRechecks.inc({ outcome: 'unchanged' });
      await marks.mark(repositoryId, tag, 'fresh', pull.ttlMs);
      return this.serve(view, tag, accept, 'hit');
    }
    pullThroughRechecks.inc({ outcome: 'changed' });
    try {
      await this.store(pull, fetched, tag);
    } catch (error) {
      // Moved to content the cache refuses: refused as a miss would be, and remembered, so that the next pulls ask nothing.
      if (error instanceof RegistryError && error.code === 'DENIED') throw await this.remember(pull, tag, error);
      throw error;
    }
    await marks.mark(repositoryId, tag, 'fresh', pull.ttlMs);
    return this.serve(await this.cached(pull), tag, accept, 'miss');
  }

  /**
   * Verifies and stores a fetched manifest under a content hold: its record
   * (shared with the sync), its blobs as remote artifacts of (remote, upstream
   * name), and a pending write of the cache repository (created on first use)
   * that protects it until a version holds it. The cache repository's id.
   */
  private async store(pull: PullContext, fetched: FetchedManifest, tag: string | null): Promise<string> {
    const { prisma } = this.options;
    const parsed = this.verified(fetched);
    const decision = evaluatePolicy(parsed, (await loadPolicy(prisma)).policy);
    if (decision.decision === 'reject') {
      throw new RegistryError('DENIED', `requested access to the resource is denied: refused by the media-type policy: ${decision.reason}`, {
        detail: { digest: parsed.digest, rule: 'media-type policy' },
      });
    }
    let sizes: Map<string, number>;
    try {
      sizes = await schema1Sizes(pull.client, parsed);
    } catch (error) {
      throw upstreamFailure(error, { manifest: fetched.digest });
    }
    const record = toManifestRecord(parsed, sizes, fetched.digest);
    return new ContentHolds(prisma).during(`pull-through:${pull.distribution.id}`, async () => {
      const repositoryId = await ensureCacheRepository(prisma, { distribution: pull.distribution, remoteId: pull.remote.id, upstreamName: pull.upstreamName });
      await saveManifests(prisma, [record]);
      await recordRemoteArtifacts(prisma, { remoteId: pull.remote.id, upstreamName: pull.upstreamName }, manifestBlobs(parsed));
      await prisma.pendingCacheWrite.create({ data: { repositoryId, manifestDigest: record.digest, tag } });
      return repositoryId;
    });
  }

  /** The fetched manifest parsed (structure, digests, size); malformed upstream content is refused as DENIED, never stored. */
  private verified(fetched: FetchedManifest): ParsedManifest {
    try {
      return parseManifest(fetched.bytes, { contentType: fetched.mediaType, maxBytes: this.options.maxManifestBytes });
    } catch (error) {
      throw new RegistryError('DENIED', 'requested access to the resource is denied: the upstream manifest is malformed', {
        detail: { digest: fetched.digest, rule: 'manifest validation' },
        cause: error,
      });
    }
  }

  private async serve(view: CacheView, reference: string, accept: string | undefined, result: 'hit' | 'miss' | 'stale'): Promise<StoredManifest> {
    const manifest = await this.options.content.over(view.snapshot, `pull-through:${view.key}`).manifest(reference, accept);
    pullThroughRequests.inc({ object: 'manifest', result });
    return manifest;
  }

  /** Blobs a manifest of this upstream repository references: recorded as its remote artifacts, or held by the cache's view. */
  private async assertBlob(route: Route, digest: string): Promise<void> {
    if (!isDigest(digest)) throw new RegistryError('DIGEST_INVALID', 'invalid digest', { detail: { digest } });
    const pull = await this.contexts.of(route);
    const recorded = await this.options.prisma.remoteArtifact.findUnique({
      where: { blobDigest_remoteId_upstreamName: { blobDigest: digest, remoteId: pull.remote.id, upstreamName: pull.upstreamName } },
      select: { id: true },
    });
    if (!recorded && !(await this.view(pull))?.snapshot.blobs.has(digest)) {
      throw new RegistryError('BLOB_UNKNOWN', 'blob unknown to registry', { detail: { digest } });
    }
    // Counted beside the pull, never in its way.
    void this.options.local.exists(digest).then(
      (stored) => pullThroughRequests.inc({ object: 'blob', result: stored ? 'hit' : 'miss' }),
      () => undefined,
    );
  }

  private async tags(route: Route, request: PageRequest): Promise<Page<string>> {
    const pull = await this.contexts.of(route);
    const keep = (tag: string) => pull.rules.tags.matches(tag);
    const local = async () => (await this.fallbackView(pull)).snapshot.tagNames.filter(keep);
    const tags = await this.options.lists.tags(listKey(pull), pull.client, pull.ttlMs, keep, local);
    // Both lists are in byte order already (UpstreamLists sorts; a version's tag names are sorted).
    return pageOf(tags, (t) => t, request);
  }

  private async referrers(route: Route, subject: string, artifactType: string | undefined, last: string | undefined): Promise<ReferrersPage> {
    if (!isDigest(subject)) throw new RegistryError('DIGEST_INVALID', 'invalid digest', { detail: { digest: subject } });
    const pull = await this.contexts.of(route);
    const local = async () => buildReferrers((await this.fallbackView(pull)).snapshot, subject, this.options.content.manifests);
    const all = await this.options.lists.referrers(listKey(pull), pull.client, subject, pull.ttlMs, local);
    return referrersPage(all, artifactType, last, this.options.referrersPageSize ?? 1000);
  }

  private view(pull: PullContext): Promise<CacheView | null> {
    return this.views.load(pull.distribution.id, pull.upstreamName);
  }

  /**
   * The cache's view when the upstream cannot answer a list: with nothing of
   * the repository cached, an empty list would read as "exists, holds nothing".
   */
  private async fallbackView(pull: PullContext): Promise<CacheView> {
    const view = await this.view(pull);
    if (!view) {
      throw new RegistryError('UNAVAILABLE', 'the upstream cannot answer and nothing of this repository is cached', {
        detail: { upstreamName: pull.upstreamName },
      });
    }
    return view;
  }

  /** The view right after this process stored into it: it exists. */
  private async cached(pull: PullContext): Promise<CacheView> {
    const view = await this.view(pull);
    if (!view) throw new RegistryError('UNKNOWN', 'the cache repository vanished right after a pull stored into it');
    return view;
  }
}

/** Whether the view serves `reference`: a tag it has, or a manifest it holds under that digest. */
function holds(view: CacheView, reference: string): boolean {
  return reference.includes(':') ? memberDigest(view.snapshot, reference) !== undefined : view.snapshot.tags.has(reference);
}

function served(freshness: Freshness): 'hit' | 'stale' {
  return freshness === 'fresh' ? 'hit' : 'stale';
}

/** What the upstream lists of a pull-through name are cached under, shared by every process. */
function listKey(pull: PullContext): string {
  return `${pull.distribution.id}:${pull.upstreamName}`;
}
