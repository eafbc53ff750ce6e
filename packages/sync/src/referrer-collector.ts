import { cosignTagsFor, referrersTagFor } from '@cistern/oci';
import type { UpstreamClient } from '@cistern/upstream';
import { isUpstreamError } from '@cistern/upstream';
import type { FailFast } from './fail-fast.ts';
import type { ManifestWalker, Outcome } from './manifest-walker.ts';
import { skipKind } from './sync-errors.ts';
import { Report, type SyncProgress } from './sync-progress.ts';

export interface ReferrerOptions {
  failFast: FailFast;
  /** How many subjects are looked at at once. */
  concurrency: number;
  client: UpstreamClient;
  walker: ManifestWalker;
  progress: SyncProgress;
  /** The tag schemas' tags the upstream lists: cosign tags and referrers tags are looked up here, not probed. */
  supplyChainTags: ReadonlySet<string>;
  syncSignatures: boolean;
  syncReferrers: boolean;
  /** Records a tag the sync adds (cosign `.sig`/`.att`/`.sbom` tags). */
  addTag(tag: string, digest: string): void;
}

export interface ReferrerResult {
  /** Subjects whose referrers could not be listed: a mirror sync keeps what it had for them. */
  failedSubjects: Set<string>;
}

/**
 * Brings in the supply-chain evidence of every accepted manifest, recursively
 * (a signature on an SBOM): cosign tags even when `includes` would not match
 * them, and OCI referrers from the Referrers API, or the tag schema only when
 * the API answers 404.
 */
export async function collectReferrers(options: ReferrerOptions): Promise<ReferrerResult> {
  const { client, walker, progress, supplyChainTags, failFast } = options;
  const failedSubjects = new Set<string>();
  const done = new Set<string>();
  let apiMissing = false;
  let probed = false;

  const found = (outcome: Outcome, tag?: string) => {
    if (!outcome.accepted) return;
    if (tag) options.addTag(tag, outcome.digest);
    progress.increment(Report.referrers, 1, 'Signatures and referrers found.');
  };

  /** The referrers of `subject`: the API, or (once it is known missing) the tag schema through the walker, so a stored index costs no GET. */
  const referrersOf = async (subject: string): Promise<string[]> => {
    const tag = referrersTagFor(subject);
    if (!apiMissing) {
      const referrers = await client.listReferrers(subject);
      if (referrers.source === 'api') return referrers.manifests.map((m) => m.digest);
      apiMissing = true;
    }
    if (!supplyChainTags.has(tag)) return [];
    const index = await walker.loadTag(tag);
    return index.children.map((c) => c.digest);
  };

  const one = async (subject: string) => {
    done.add(subject);
    failFast.check();
    progress.checkpoint();
    if (options.syncSignatures) {
      for (const tag of cosignTagsFor(subject).filter((t) => supplyChainTags.has(t))) found(await walker.visitTag(tag), tag);
    }
    if (!options.syncReferrers) return;
    let referrers: string[];
    try {
      referrers = await referrersOf(subject);
    } catch (error) {
      // A list that could not be read keeps what the subject had; a rate limit, a cancel or trouble of our own stops the sync.
      const ours = !isUpstreamError(error) && skipKind(error) === undefined;
      if (ours || isUpstreamError(error, 'TOOMANYREQUESTS') || failFast.signal.aborted) throw error;
      failedSubjects.add(subject);
      progress.increment(
        Report.referrersFailed,
        1,
        `Subjects whose referrers could not be listed, kept as they were; the last error: ${(error as Error).message}.`,
      );
      return;
    }
    for (const referrer of referrers) {
      const outcome = await walker.visit(referrer, `referrer of ${subject}`, 'failed');
      if (outcome.accepted) walker.addReferrer(referrer, subject);
      else if (outcome.kind === 'failed') failedSubjects.add(subject);
      found(outcome);
    }
  };

  for (;;) {
    const pending = [...walker.accepted].filter((d) => !done.has(d));
    if (pending.length === 0) break;
    // The first answer tells whether the upstream has the Referrers API; the rest then skip what it lacks.
    if (!probed) {
      probed = true;
      await one(pending.shift() as string);
    }
    await failFast.each(pending, options.concurrency, one);
  }
  return { failedSubjects };
}
