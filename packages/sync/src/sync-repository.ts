import {
  chunked,
  ContentHolds,
  inVersion,
  manifestClosure,
  resolveAliases,
  versionManifests,
  writeRepositoryVersion,
  type ContentHold,
  type PrismaClient,
  type Remote,
} from '@cistern/db';
import { isSupplyChainTag, type MediaTypePolicy } from '@cistern/oci';
import type { TaskWarning } from '@cistern/queue';
import { createTagFilter } from '@cistern/ingest';
import type { BlobStore } from '@cistern/storage';
import type { UpstreamClient } from '@cistern/upstream';
import { MAX_BATCH_KEYS } from './batched.ts';
import { BlobTransfer } from './blob-transfer.ts';
import { FailFast } from './fail-fast.ts';
import { LARGE_LISTING, leanHeap } from './lean-heap.ts';
import { ManifestWalker } from './manifest-walker.ts';
import { OutageBreaker } from './outage-breaker.ts';
import { collectReferrers } from './referrer-collector.ts';
import { toSyncError } from './sync-errors.ts';
import { planTagChanges } from './plan-tag-changes.ts';
import { SyncMetrics } from './sync-metrics.ts';
import type { SyncPlan, SyncPlanCounts } from './sync-plan.ts';
import { Report, type SyncProgress } from './sync-progress.ts';

export interface SyncInput {
  repositoryId: string;
  remote: Pick<
    Remote,
    'id' | 'name' | 'includes' | 'excludes' | 'platforms' | 'policy' | 'downloadConcurrency' | 'maxRetries' | 'syncSignatures' | 'syncReferrers'
  >;
  /** true: the new version is exactly what this sync produced; false: the latest version plus it. */
  mirror: boolean;
  /** Which media types the sync takes (the remote's `policy` is its download policy). */
  mediaTypePolicy: MediaTypePolicy;
  maxManifestBytes: number;
}

export interface SyncDeps {
  prisma: PrismaClient;
  storage: BlobStore;
  client: UpstreamClient;
  progress: SyncProgress;
  /**
   * A dry-run: the sync lists, HEADs, fetches manifests it does not know and
   * decides as a real one would, records in `plan` what it would do, and
   * stores nothing, downloads no blob and writes no version.
   */
  plan?: SyncPlan;
}

export interface SyncResult {
  /** The version written, or null when nothing changed. */
  version: number | null;
  manifests: number;
  tags: number;
  /** What a completed sync wants its reader to know, e.g. NOTHING_MIRRORED. */
  warnings: TaskWarning[];
  /** A dry-run's counts (its entries are in the plan), else null. */
  plan: SyncPlanCounts | null;
}

/**
 * Mirrors one upstream repository into a new version of a local one. Nothing
 * becomes a version until everything it needs is verified and stored; what a
 * failed or canceled run stored stays for the next run to reuse. A manifest
 * or blob that is refused or fails is skipped and named; the rest completes.
 */
export async function syncRepository(deps: SyncDeps, input: SyncInput): Promise<SyncResult> {
  try {
    return await run(deps, input);
  } catch (error) {
    // A cancel aborts requests in flight: report the cancel, not the aborted request.
    deps.progress.checkpoint();
    throw toSyncError(error);
  }
}

async function run(deps: SyncDeps, input: SyncInput): Promise<SyncResult> {
  const releaseLeanHeap = leanHeap.hold();
  try {
    // A dry-run writes nothing but its plan: no hold, so it never delays a cleanup or a reclaim.
    if (deps.plan) return await sync(deps, input, undefined, releaseLeanHeap);
    // Under a content hold: nothing the sync relies on before its version references it is collected meanwhile.
    return await new ContentHolds(deps.prisma).during(`sync:${input.repositoryId}`, (hold) => sync(deps, input, hold, releaseLeanHeap));
  } finally {
    releaseLeanHeap();
  }
}

/**
 * `hold` is the sync's content hold (none for a dry-run). `releaseLeanHeap` is
 * called when the walk ends, unless the listing proved large (LARGE_LISTING tags).
 */
async function sync(deps: SyncDeps, input: SyncInput, hold: ContentHold | undefined, releaseLeanHeap: () => void): Promise<SyncResult> {
  const { prisma, progress } = deps;
  const { remote } = input;
  // A lapsed content hold stops the sync as a cancel would (retryable): what it relies on may be collected from then on.
  const failFast = new FailFast(hold ? AbortSignal.any([progress.signal, hold.lost]) : progress.signal);
  // Every request of the sync stops when the sync does, for a cancel or for the failure of another step.
  const client = deps.client.withSignal(failFast.signal);
  const concurrency = Math.max(1, remote.downloadConcurrency);
  const outage = new OutageBreaker(() => client.ping());
  const metrics = new SyncMetrics(remote.name);
  const blobs = new BlobTransfer({
    metrics,
    outage,
    maxRetries: remote.maxRetries,
    failFast,
    prisma,
    storage: deps.storage,
    client,
    progress,
    downloadPolicy: remote.policy,
    remoteId: remote.id,
    upstreamName: client.repository,
    concurrency,
    plan: deps.plan,
  });
  const walker = new ManifestWalker({
    failFast,
    prisma,
    hold,
    client,
    mediaTypePolicy: input.mediaTypePolicy,
    platforms: remote.platforms,
    concurrency,
    maxManifestBytes: input.maxManifestBytes,
    progress,
    metrics,
    onAccepted: (parsed) => blobs.add(parsed),
    outage,
    plan: deps.plan,
  });
  // Downloads overlap the walk; whatever fails first stops both, and both settle before the sync reports.
  // Assigned when the walk succeeds; when it fails, `settle` throws its failure first.
  let walked!: WalkResult;
  await failFast.guard(
    walk({ ...deps, client }, input, walker, failFast).then((result) => {
      walked = result;
      if (result.listed < LARGE_LISTING) releaseLeanHeap();
    }),
  );
  await blobs.settle();
  walker.failManifests(blobs.failedManifests, { code: 'BLOB_FAILED', reason: 'one of its blobs could not be brought in' });
  const { producedTags, failedSubjects, selected } = walked;
  const failedTags: string[] = [];
  for (const [tag, digest] of producedTags) {
    if (walker.accepted.has(digest)) continue;
    producedTags.delete(tag);
    failedTags.push(tag);
  }
  failedTags.push(...walked.failedTags);
  const produced = walker.reachableFrom([...new Set(producedTags.values()), ...walked.digests]);

  const warned = warnings(selected, mirroredSelected(walked, walker), walker.failed.size, failedSubjects.size);

  progress.checkpoint();
  failFast.check();
  const changes = input.mirror
    ? await mirrorChanges(prisma, input.repositoryId, { produced, failed: walker.failed, producedTags, failedTags, failedSubjects })
    : { addManifests: produced, addTags: producedTags };
  const counts = { manifests: produced.size, tags: producedTags.size, warnings: warned };
  if (deps.plan) {
    const failed = new Set(failedTags);
    const keeps = input.mirror ? (name: string) => producedTags.has(name) || failed.has(name) : undefined;
    await planTagChanges(prisma, input.repositoryId, deps.plan, { tags: changes.addTags, keeps });
    deps.plan.count('manifestsRemoved', 'removeManifests' in changes ? changes.removeManifests.length : 0);
    progress.report(Report.version, { message: 'A dry-run writes no version.', done: 0, total: 1, state: 'completed' });
    return { ...counts, version: null, plan: await deps.plan.flush() };
  }
  const written = await writeRepositoryVersion(prisma, input.repositoryId, changes);
  progress.report(Report.version, {
    message: written ? `Wrote version ${written.version.number}.` : 'Nothing changed, so no version was written.',
    done: written ? 1 : 0,
    total: 1,
    state: 'completed',
  });
  return { ...counts, version: written?.version.number ?? null, plan: null };
}

interface WalkResult {
  producedTags: Map<string, string>;
  /** Selected tags whose manifest failed (not refused) before it was accepted. */
  failedTags: string[];
  failedSubjects: Set<string>;
  /** How many tags and `includes` digests the filters selected. */
  selected: number;
  /** How many tags the upstream listed. */
  listed: number;
  /** Tags the referrer collector added (cosign tags the filters did not select). */
  collectedTags: Set<string>;
  /** The `includes` digests. */
  digests: readonly string[];
}

/** How many of the selected tags and digests made it into the result. */
function mirroredSelected(walked: WalkResult, walker: ManifestWalker): number {
  let mirrored = walked.digests.filter((d) => walker.accepted.has(d)).length;
  for (const tag of walked.producedTags.keys()) if (!walked.collectedTags.has(tag)) mirrored += 1;
  return mirrored;
}

/** Lists and filters tags as they stream in, brings in their manifests, then their signatures and referrers. */
async function walk(deps: SyncDeps, input: SyncInput, walker: ManifestWalker, failFast: FailFast): Promise<WalkResult> {
  const { client, progress } = deps;
  const { remote } = input;
  const concurrency = Math.max(1, remote.downloadConcurrency);
  const filter = createTagFilter(remote.includes, remote.excludes);
  // Only the tag schemas' tags are remembered: a million-tag listing is never held.
  const supplyChainTags = new Set<string>();
  const producedTags = new Map<string, string>();
  const failedTags: string[] = [];
  const collectedTags = new Set<string>();
  let listed = 0;
  let selected = 0;

  async function* selectedTags(): AsyncGenerator<string> {
    progress.report(Report.tags, { message: 'Listing the upstream tags.' });
    for await (const page of client.tagPages()) {
      listed += page.length;
      progress.report(Report.tags, { message: 'Listing the upstream tags.', done: listed });
      for (const tag of page) {
        if (isSupplyChainTag(tag)) supplyChainTags.add(tag);
        if (!filter.matches(tag)) continue;
        selected += 1;
        yield tag;
      }
      progress.checkpoint();
    }
    progress.report(Report.tags, { message: `Listed ${listed} upstream tags; the filters selected ${selected}.`, done: listed, state: 'completed' });
  }

  await failFast.each(selectedTags(), concurrency, async (tag) => {
    progress.checkpoint();
    const outcome = await walker.visitTag(tag);
    if (outcome.accepted) producedTags.set(tag, outcome.digest);
    else if (outcome.kind === 'failed') failedTags.push(tag);
  });
  selected += filter.digests.length;
  await failFast.each(filter.digests, concurrency, (digest) => walker.visit(digest, digest, 'refused'));

  const { failedSubjects } = await collectReferrers({
    failFast,
    concurrency,
    client,
    walker,
    progress,
    supplyChainTags,
    syncSignatures: remote.syncSignatures,
    syncReferrers: remote.syncReferrers,
    addTag: (tag, digest) => {
      if (!producedTags.has(tag)) collectedTags.add(tag);
      producedTags.set(tag, digest);
    },
  });
  return { producedTags, failedTags, failedSubjects, selected, listed, collectedTags, digests: filter.digests };
}

/** The warnings of a sync that completed: what a glance at `completed` would miss. */
function warnings(selected: number, mirrored: number, failed: number, failedSubjects: number): TaskWarning[] {
  const out: TaskWarning[] = [];
  if (selected === 0) {
    out.push({ code: 'NOTHING_SELECTED', message: "the remote's includes and excludes selected none of the tags the upstream lists" });
  }
  if (selected > 0 && mirrored === 0) {
    out.push({ code: 'NOTHING_MIRRORED', message: `0 of ${selected} selected tags and digests were mirrored: see the refused and failed reports` });
  }
  if (failed > 0) {
    out.push({ code: 'CONTENT_FAILED', message: `${failed} manifests could not be brought in; what they replace was kept as it was` });
  }
  if (failedSubjects > 0) {
    out.push({ code: 'REFERRERS_UNLISTED', message: `the referrers of ${failedSubjects} manifests could not be listed; those kept what they had` });
  }
  return out;
}

interface MirrorInput {
  /** The manifests this sync produced. */
  produced: ReadonlySet<string>;
  /** The manifests that failed: a version holding one keeps it. */
  failed: ReadonlySet<string>;
  producedTags: ReadonlyMap<string, string>;
  /** Tags whose new target failed: they keep their previous target. */
  failedTags: readonly string[];
  /** Subjects whose referrers could not be listed: their referrers stay as they were. */
  failedSubjects: ReadonlySet<string>;
}

/**
 * A mirror version is exactly what this sync produced, except that what failed
 * keeps its previous state: a tag whose new target failed keeps its old one,
 * a failed digest the version held stays, and with each kept manifest stay
 * its children and referrers (whatever digest names them); referrers of
 * subjects whose referrers could not be listed stay too. Refused content leaves.
 */
async function mirrorChanges(prisma: PrismaClient, repositoryId: string, input: MirrorInput) {
  const keptTags: [string, string][] = [];
  const latest = (await prisma.repository.findUniqueOrThrow({ where: { id: repositoryId }, select: { latestVersion: true } })).latestVersion;
  const current = await versionManifests(prisma, repositoryId, latest);
  const roots: string[] = [];
  for (const names of chunked(input.failedTags, MAX_BATCH_KEYS)) {
    const rows = await prisma.repositoryTag.findMany({
      where: { repositoryId, name: { in: names }, ...inVersion(latest) },
      select: { name: true, manifestDigest: true },
    });
    for (const row of rows) {
      keptTags.push([row.name, row.manifestDigest]);
      roots.push(row.manifestDigest);
    }
  }
  const failed = await resolveAliases(prisma, [...input.failed, ...input.failedSubjects]);
  for (const digest of [...input.failed, ...input.failedSubjects]) roots.push(failed.get(digest) ?? digest);
  const keep = new Set(input.produced);
  for (const digest of await manifestClosure(prisma, roots, current)) keep.add(digest);
  return {
    addManifests: keep,
    removeManifests: [...current].filter((d) => !keep.has(d)),
    // The failed tags are not among the produced ones: the two never name one tag twice.
    addTags: concat(input.producedTags, keptTags),
    replaceTags: true,
  };
}

/** Both tag lists in turn, without copying a million-entry map into a third. */
function* concat(...lists: Iterable<readonly [string, string]>[]): Generator<readonly [string, string]> {
  for (const list of lists) yield* list;
}
