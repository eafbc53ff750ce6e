import { versionManifests, versionTags, writeRepositoryVersion, type PrismaClient, type Remote } from '@cistern/db';
import type { MediaTypePolicy } from '@cistern/oci';
import type { BlobStore } from '@cistern/storage';
import type { UpstreamClient } from '@cistern/upstream';
import pLimit from 'p-limit';
import { BlobTransfer } from './blob-transfer.ts';
import { FailFast } from './fail-fast.ts';
import { ManifestWalker } from './manifest-walker.ts';
import { collectReferrers } from './referrer-collector.ts';
import { toSyncError } from './sync-errors.ts';
import { Report, type SyncProgress } from './sync-progress.ts';
import { createTagFilter } from './tag-filter.ts';

export interface SyncInput {
  repositoryId: string;
  remote: Pick<Remote, 'id' | 'includes' | 'excludes' | 'platforms' | 'policy' | 'downloadConcurrency' | 'syncSignatures' | 'syncReferrers'>;
  /** true: the new version is exactly what this sync produced; false: the latest version plus it. */
  mirror: boolean;
  policy: MediaTypePolicy;
  maxManifestBytes: number;
}

export interface SyncDeps {
  prisma: PrismaClient;
  storage: BlobStore;
  client: UpstreamClient;
  progress: SyncProgress;
}

export interface SyncResult {
  /** The version written, or null when nothing changed. */
  version: number | null;
  manifests: number;
  tags: number;
}

/**
 * Mirrors one upstream repository into a new version of a local one. Nothing
 * becomes a version until everything it needs is verified and stored; what a
 * failed or canceled run stored stays for the next run to reuse.
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
  const { prisma, client, progress } = deps;
  const { remote } = input;
  const failFast = new FailFast(progress.signal);
  const blobs = new BlobTransfer({
    failFast,
    prisma,
    storage: deps.storage,
    client,
    progress,
    policy: remote.policy,
    remoteId: remote.id,
    upstreamName: client.repository,
    concurrency: Math.max(1, remote.downloadConcurrency),
  });
  const walker = new ManifestWalker({
    failFast,
    prisma,
    client,
    policy: input.policy,
    platforms: remote.platforms,
    maxManifestBytes: input.maxManifestBytes,
    progress,
    onAccepted: (parsed) => blobs.add(parsed),
  });
  // Downloads overlap the walk; whatever fails first stops both, and both settle before the sync reports.
  // Assigned when the walk succeeds; when it fails, `settle` throws its failure first.
  let walked!: WalkResult;
  await failFast.guard(walk(deps, input, walker, failFast).then((result) => (walked = result)));
  await blobs.settle();
  const { producedTags, failedSubjects } = walked;

  progress.checkpoint();
  const produced = new Set(walker.accepted);
  const changes = input.mirror
    ? await mirrorChanges(prisma, input.repositoryId, produced, producedTags, failedSubjects)
    : { addManifests: produced, addTags: producedTags };
  const written = await writeRepositoryVersion(prisma, input.repositoryId, changes);
  progress.report(Report.version, {
    message: written ? `wrote version ${written.version.number}` : 'no changes: no version written',
    done: written ? 1 : 0,
    total: 1,
    state: 'completed',
  });
  return { version: written?.version.number ?? null, manifests: produced.size, tags: producedTags.size };
}

interface WalkResult {
  producedTags: Map<string, string>;
  failedSubjects: Set<string>;
}

/** Lists and filters tags, brings in their manifests, then their signatures and referrers. */
async function walk(deps: SyncDeps, input: SyncInput, walker: ManifestWalker, failFast: FailFast): Promise<WalkResult> {
  const { client, progress } = deps;
  const { remote } = input;
  progress.report(Report.tags, { message: 'listing upstream tags' });
  const upstreamTags = new Set<string>();
  for await (const page of client.tagPages()) {
    page.forEach((tag) => upstreamTags.add(tag));
    progress.report(Report.tags, { message: 'tags listed', done: upstreamTags.size });
    progress.checkpoint();
  }
  const filter = createTagFilter(remote.includes, remote.excludes);
  const selected = filter.tags(upstreamTags);
  progress.report(Report.tags, { message: `tags listed, ${selected.length} selected by the filters`, done: upstreamTags.size, state: 'completed' });

  const producedTags = new Map<string, string>();
  const limit = pLimit(Math.max(1, remote.downloadConcurrency));
  await failFast.settle([
    ...selected.map((tag) =>
      limit(async () => {
        failFast.check();
        progress.checkpoint();
        const outcome = await walker.visitTag(tag);
        if (outcome.accepted) producedTags.set(tag, outcome.digest);
      }),
    ),
    ...filter.digests.map((digest) => limit(() => walker.visit(digest, digest))),
  ]);

  const { failedSubjects } = await collectReferrers({
    failFast,
    concurrency: remote.downloadConcurrency,
    client,
    walker,
    progress,
    upstreamTags,
    syncSignatures: remote.syncSignatures,
    syncReferrers: remote.syncReferrers,
    addTag: (tag, digest) => producedTags.set(tag, digest),
  });
  return { producedTags, failedSubjects };
}

/**
 * A mirror version is exactly what this sync produced, except that referrers of
 * subjects whose referrers could not be listed stay as they were.
 */
async function mirrorChanges(
  prisma: PrismaClient,
  repositoryId: string,
  produced: Set<string>,
  producedTags: Map<string, string>,
  failedSubjects: Set<string>,
) {
  const latest = (await prisma.repository.findUniqueOrThrow({ where: { id: repositoryId }, select: { latestVersion: true } })).latestVersion;
  const current = await versionManifests(prisma, repositoryId, latest);
  const keep = new Set(produced);
  if (failedSubjects.size > 0) {
    const kept = await prisma.manifest.findMany({
      where: { digest: { in: [...current] }, subjectDigest: { in: [...failedSubjects] } },
      select: { digest: true },
    });
    kept.forEach((m) => keep.add(m.digest));
  }
  const currentTags = await versionTags(prisma, repositoryId, latest);
  return {
    addManifests: keep,
    removeManifests: [...current].filter((d) => !keep.has(d)),
    addTags: producedTags,
    removeTags: [...currentTags.keys()].filter((name) => !producedTags.has(name)),
  };
}
