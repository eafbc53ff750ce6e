import { cosignTagsFor } from '@cistern/oci';
import type { UpstreamClient } from '@cistern/upstream';
import { isUpstreamError } from '@cistern/upstream';
import type { ManifestWalker } from './manifest-walker.ts';
import { Report, type SyncProgress } from './sync-progress.ts';

export interface ReferrerOptions {
  client: UpstreamClient;
  walker: ManifestWalker;
  progress: SyncProgress;
  /** Every tag the upstream lists: cosign tags and referrers tags are looked up here, not probed. */
  upstreamTags: ReadonlySet<string>;
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
  const { client, walker, progress, upstreamTags } = options;
  const failedSubjects = new Set<string>();
  const done = new Set<string>();
  let apiMissing = false;
  let probed = false;
  for (;;) {
    const pending = [...walker.accepted.keys()].filter((d) => !done.has(d));
    if (pending.length === 0) break;
    const one = async (subject: string) => {
      done.add(subject);
      progress.checkpoint();
      if (options.syncSignatures) {
        for (const tag of cosignTagsFor(subject).filter((t) => upstreamTags.has(t))) {
          const { digest } = await client.headManifest(tag);
          const outcome = await walker.visit(digest, tag);
          if (outcome.accepted) {
            options.addTag(tag, digest);
            progress.increment(Report.referrers, 1, 'signatures and referrers found');
          }
        }
      }
      if (!options.syncReferrers) return;
      try {
        const referrers = await client.listReferrers(subject, { knownTags: upstreamTags, skipApi: apiMissing });
        if (referrers.source === 'tag') apiMissing = true;
        for (const referrer of referrers.manifests) {
          const outcome = await walker.visit(referrer.digest, `referrer of ${subject}`);
          if (outcome.accepted) progress.increment(Report.referrers, 1, 'signatures and referrers found');
        }
      } catch (error) {
        if (isUpstreamError(error, 'TOOMANYREQUESTS') || !isUpstreamError(error)) throw error;
        failedSubjects.add(subject);
        progress.increment(Report.referrersFailed, 1, `subjects whose referrers could not be listed (kept as they were); last: ${error.message}`);
      }
    };
    // The first answer tells whether the upstream has the Referrers API; the rest then skip what it lacks.
    if (!probed) {
      probed = true;
      await one(pending.shift() as string);
    }
    await Promise.all(pending.map(one));
  }
  return { failedSubjects };
}
