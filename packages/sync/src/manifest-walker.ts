import { resolveAliases, saveManifests, type ManifestRecord, type PrismaClient } from '@cistern/db';
import { Annotation, evaluatePolicy, parseManifest, platformMatches, type Descriptor, type MediaTypePolicy, type ParsedManifest } from '@cistern/oci';
import type { UpstreamClient } from '@cistern/upstream';
import { batched, batchedCalls, inKeyOrder, MAX_BATCH_KEYS } from './batched.ts';
import type { FailFast } from './fail-fast.ts';
import { isBlobEntry, toManifestRecord } from './manifest-record.ts';
import { describeSkip, isSkippable } from './sync-errors.ts';
import { MAX_REPORT_ITEMS, Report, type SyncProgress } from './sync-progress.ts';

export interface WalkerOptions {
  failFast: FailFast;
  prisma: PrismaClient;
  client: UpstreamClient;
  policy: MediaTypePolicy;
  /** `os/arch[/variant]` filters for index children; empty keeps all. */
  platforms: readonly string[];
  maxManifestBytes: number;
  progress: SyncProgress;
  /** Called once per accepted manifest, as soon as it is accepted (blob transfers start here). */
  onAccepted(parsed: ParsedManifest): void;
}

/** Only the digest is kept per manifest: a sync of a large repository holds no documents in memory. */
export type Outcome = { accepted: true; digest: string } | { accepted: false; reason: string };

// A batch is one statement carrying its manifests' bytes as base64 text: small
// manifests (nearly all) are batched, a larger one is saved on its own.
const maxSave = 32;
const maxBatchedManifestBytes = 64 * 1024;

/**
 * Brings manifests in: a digest already stored costs no request (its stored
 * bytes are re-validated against today's policy); a new one is fetched by
 * digest, validated, checked against the policy, and stored. Indexes are walked
 * recursively. A manifest that fails validation or policy is skipped and named,
 * never fatal. Each digest is visited once per sync.
 */
export class ManifestWalker {
  readonly accepted = new Set<string>();
  private readonly skippedItems: { name: string; reason: string }[] = [];
  private readonly visits = new Map<string, Promise<Outcome>>();
  /** Concurrent visits share their database round trips. */
  private readonly findStored = batched((digests: readonly string[]) => this.lookUpStored(digests), MAX_BATCH_KEYS);
  private readonly saveBatched = batchedCalls((records: readonly ManifestRecord[]) => saveManifests(this.options.prisma, records), maxSave);

  constructor(private readonly options: WalkerOptions) {}

  visit(digest: string, label: string): Promise<Outcome> {
    let visit = this.visits.get(digest);
    if (!visit) {
      visit = this.run(digest, label);
      this.visits.set(digest, visit);
    }
    return visit;
  }

  /** Resolves a tag with a HEAD and visits its manifest; a tag gone since the listing is skipped and named. */
  async visitTag(tag: string): Promise<Outcome> {
    let digest: string;
    try {
      digest = (await this.options.client.headManifest(tag)).digest;
    } catch (error) {
      if (!isSkippable(error)) throw error;
      return this.skip(tag, describeSkip(error));
    }
    return this.visit(digest, tag);
  }

  /**
   * A manifest the sync reads but does not put in the version (the tag schema's
   * index of referrers): stored when new, so the next run reads it locally.
   */
  async load(digest: string): Promise<ParsedManifest> {
    const { parsed, isNew } = await this.fetchOrLoad(digest);
    if (isNew) await this.save(toManifestRecord(parsed, undefined, digest));
    return parsed;
  }

  skip(label: string, reason: string): Outcome {
    this.options.progress.increment(Report.manifestsSkipped, 1, 'manifests skipped');
    if (this.skippedItems.length < MAX_REPORT_ITEMS) {
      this.skippedItems.push({ name: label, reason });
      this.options.progress.report(Report.manifestsSkipped, { items: [...this.skippedItems], state: 'skipped' });
    }
    return { accepted: false, reason };
  }

  private async run(digest: string, label: string): Promise<Outcome> {
    const { progress, policy, failFast } = this.options;
    progress.checkpoint();
    failFast.check();
    let loaded: { parsed: ParsedManifest; isNew: boolean };
    try {
      loaded = await this.fetchOrLoad(digest);
    } catch (error) {
      if (isSkippable(error)) return this.skip(label, describeSkip(error));
      throw error;
    }
    const decision = evaluatePolicy(loaded.parsed, policy);
    if (decision.decision === 'reject') return this.skip(label, `rejected by the media-type policy: ${decision.reason}`);
    if (loaded.isNew) {
      await this.save(toManifestRecord(loaded.parsed, await this.schema1Sizes(loaded.parsed), digest));
      progress.increment(Report.manifestsNew, 1, 'new manifests stored');
    } else {
      progress.increment(Report.manifestsUnchanged, 1, 'manifests already stored');
    }
    // Under every name: referrers may name their subject by any of them.
    this.accepted.add(digest).add(loaded.parsed.digest);
    this.options.onAccepted(loaded.parsed);
    // allSettled, not all: a failing child must not leave its siblings running unawaited.
    const children = await Promise.allSettled(this.keptChildren(loaded.parsed).map((child) => this.visit(child.digest, `${label} > ${child.digest}`)));
    const failed = children.find((c) => c.status === 'rejected');
    if (failed) throw failed.reason;
    return { accepted: true, digest };
  }

  private async fetchOrLoad(digest: string): Promise<{ parsed: ParsedManifest; isNew: boolean }> {
    const { client, maxManifestBytes } = this.options;
    const stored = await this.findStored(digest);
    if (stored) return { parsed: parseManifest(stored.raw, { contentType: stored.mediaType, maxBytes: maxManifestBytes }), isNew: false };
    const fetched = await client.getManifest(digest);
    return { parsed: parseManifest(fetched.bytes, { contentType: fetched.mediaType, maxBytes: maxManifestBytes }), isNew: true };
  }

  private async lookUpStored(digests: readonly string[]) {
    const { prisma } = this.options;
    const aliases = await resolveAliases(prisma, digests);
    const canonical = digests.map((d) => aliases.get(d) ?? d);
    const rows = await prisma.manifest.findMany({ where: { digest: { in: canonical } }, select: { digest: true, raw: true, mediaType: true } });
    return inKeyOrder(canonical, rows, (row) => row.digest);
  }

  private async save(record: ManifestRecord): Promise<void> {
    if (record.raw.byteLength > maxBatchedManifestBytes) await saveManifests(this.options.prisma, [record]);
    else await this.saveBatched(record);
  }

  /**
   * Children to sync: all, or those matching `platforms`. Entries without a
   * platform stay; BuildX attestation manifests follow the image they describe.
   * The index itself stays byte-exact either way.
   */
  private keptChildren(parsed: ParsedManifest): Descriptor[] {
    const manifests = parsed.children.filter((child) => !isBlobEntry(child));
    const { platforms } = this.options;
    if (platforms.length === 0) return manifests;
    const kept = new Set(
      manifests.filter((c) => !isAttestation(c) && (!c.platform || platformMatches(c.platform, platforms))).map((c) => c.digest),
    );
    return manifests.filter((c) =>
      isAttestation(c) ? kept.has(c.annotations?.[Annotation.DockerReferenceDigest] ?? '') : kept.has(c.digest),
    );
  }

  /** Schema 1 names blobs without sizes; HEAD them once, when the manifest is new. */
  private async schema1Sizes(parsed: ParsedManifest): Promise<Map<string, number>> {
    const sizes = new Map<string, number>();
    for (const digest of parsed.schema1Blobs) sizes.set(digest, (await this.options.client.headBlob(digest)).size);
    return sizes;
  }
}

function isAttestation(child: Descriptor): boolean {
  return child.annotations?.[Annotation.DockerReferenceType] === 'attestation-manifest';
}
