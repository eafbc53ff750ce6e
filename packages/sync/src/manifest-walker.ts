import { resolveAliases, saveManifests, touchManifests, type ContentHold, type ManifestRecord, type PrismaClient } from '@cistern/db';
import {
  Annotation,
  evaluatePolicy,
  isSupplyChainTag,
  parseManifest,
  platformMatches,
  type Descriptor,
  type MediaTypePolicy,
  type ParsedManifest,
} from '@cistern/oci';
import { isBlobEntry, schema1Sizes, toManifestRecord } from '@cistern/ingest';
import { isUpstreamError, type FetchedManifest, type ManifestInfo, type UpstreamClient } from '@cistern/upstream';
import { batched, batchedCalls, inKeyOrder, MAX_BATCH_KEYS } from './batched.ts';
import type { FailFast } from './fail-fast.ts';
import type { OutageBreaker } from './outage-breaker.ts';
import type { SyncPlan } from './sync-plan.ts';
import { describeSkip, skipCode, skipKind, type SkipKind } from './sync-errors.ts';
import type { SyncMetrics } from './sync-metrics.ts';
import { MAX_REPORT_ITEMS, Report, type SyncProgress } from './sync-progress.ts';

export interface WalkerOptions {
  failFast: FailFast;
  prisma: PrismaClient;
  /** The sync's hold: a stored manifest is relied on only once touched under it. A dry-run has none: it only reads. */
  hold: ContentHold | undefined;
  client: UpstreamClient;
  /** Which media types are taken; the rest are refused. */
  mediaTypePolicy: MediaTypePolicy;
  /** `os/arch[/variant]` filters for index children; empty keeps all. */
  platforms: readonly string[];
  /** Children of one index visited at once. */
  concurrency: number;
  maxManifestBytes: number;
  progress: SyncProgress;
  metrics: SyncMetrics;
  /** Called once per accepted manifest, as soon as it is accepted (blob transfers start here). */
  onAccepted(parsed: ParsedManifest): void;
  /** Told of every upstream success and failure, to tell an outage from one bad manifest. */
  outage: OutageBreaker;
  /** A dry-run's plan: each decision is recorded there, and nothing new is stored. */
  plan?: SyncPlan;
}

/** Only the digest is kept per manifest: a sync of a large repository holds no documents in memory. */
export type Outcome = { accepted: true; digest: string } | { accepted: false; kind: SkipKind; reason: string };

const SKIP_REPORT: Record<SkipKind, { code: string; message: string }> = {
  refused: { code: Report.manifestsRefused, message: 'Manifests refused: malformed, of an unknown type, denied by the media-type policy, or gone upstream.' },
  failed: { code: Report.manifestsFailed, message: 'Manifests that could not be brought in; what they replace was kept as it was.' },
};

// A batch is one statement carrying its manifests' bytes as base64 text: small
// manifests (nearly all) are batched, a larger one is saved on its own.
const maxSave = 32;
const maxBatchedManifestBytes = 64 * 1024;

/**
 * Brings manifests in: a digest already stored costs no request (its stored
 * bytes are re-validated against today's media-type policy); a new one is fetched by
 * digest, validated, checked against the media-type policy, and stored. Indexes are walked
 * recursively, their children `concurrency` at a time. A manifest that is
 * refused or fails is skipped and named with its kind, never fatal; an index
 * with a failed child fails too. Each digest is visited once per sync.
 */
export class ManifestWalker {
  readonly accepted = new Set<string>();
  /** Digests that failed (not refused): a mirror keeps what it had for them. */
  readonly failed = new Set<string>();
  /** The sha256 of a manifest visited by another digest, and that digest of its sha256. */
  private readonly otherNames = new Map<string, string>();
  /** Each accepted index's kept children, to fail the index when a child's blobs fail later. */
  private readonly childrenOf = new Map<string, string[]>();
  /** subject → the referrers brought in for it. */
  private readonly referrersOf = new Map<string, string[]>();
  private readonly skippedItems: Record<SkipKind, { name: string; reason: string }[]> = { refused: [], failed: [] };
  private readonly visits = new Map<string, Promise<Outcome>>();
  /** Tag schemas' tags resolved this sync → their digests. */
  private readonly supplyChainDigests = new Map<string, string>();
  /** Concurrent visits share their database round trips. */
  private readonly findStored = batched((digests: readonly string[]) => this.lookUpStored(digests), MAX_BATCH_KEYS);
  private readonly saveBatched = batchedCalls((records: readonly ManifestRecord[]) => saveManifests(this.options.prisma, records), maxSave);

  constructor(private readonly options: WalkerOptions) {}

  /**
   * Visits a manifest by digest. `gone` is what the upstream answering 404 for
   * it means: `failed` where the upstream itself just named the digest (a
   * tag's HEAD, a referrers list: it contradicts itself), `refused` where it
   * may simply be gone (an index entry, a digest in `includes`). `fetched` is
   * its bytes when a tag's HEAD had to GET them already.
   */
  visit(digest: string, label: string, gone: SkipKind, fetched?: FetchedManifest): Promise<Outcome> {
    let visit = this.visits.get(digest);
    if (!visit) {
      visit = this.run(digest, label, gone, fetched);
      this.visits.set(digest, visit);
    }
    return visit;
  }

  /** Resolves a tag with a HEAD and visits its manifest; a tag gone since the listing is skipped and named. */
  async visitTag(tag: string): Promise<Outcome> {
    const known = this.supplyChainDigests.get(tag);
    if (known !== undefined) return this.visit(known, tag, 'failed');
    let info: ManifestInfo;
    try {
      info = await this.resolveTag(tag);
    } catch (error) {
      return this.skipOrThrow(tag, error);
    }
    return this.visit(info.digest, tag, 'failed', fetchedOf(info));
  }

  /**
   * The manifest a tag schema's tag names (a `sha256-<hex>` index of
   * referrers), read but not put in the version. Its tag is resolved once a
   * sync, however many times it is asked for.
   */
  async loadTag(tag: string): Promise<ParsedManifest> {
    const known = this.supplyChainDigests.get(tag);
    if (known !== undefined) return this.load(known);
    const info = await this.resolveTag(tag);
    return this.load(info.digest, fetchedOf(info));
  }

  private async resolveTag(tag: string): Promise<ManifestInfo> {
    const info = await this.options.client.headManifest(tag);
    this.options.outage.succeeded();
    // Only the tag schemas' tags are asked for again (by the referrer collector): a million others are not kept.
    if (isSupplyChainTag(tag)) this.supplyChainDigests.set(tag, info.digest);
    return info;
  }

  /**
   * A manifest the sync reads but does not put in the version (the tag schema's
   * index of referrers): stored when new, so the next run reads it locally.
   */
  async load(digest: string, fetched?: FetchedManifest): Promise<ParsedManifest> {
    const { parsed, isNew, schema1Sizes } = await this.fetchOrLoad(digest, fetched);
    if (isNew && !this.options.plan) await this.save(toManifestRecord(parsed, schema1Sizes, digest));
    return parsed;
  }

  /**
   * Names a skipped manifest (by `digest` when known) in the report of its
   * kind, and in a dry-run's plan; `code` is the reason's code for the metrics.
   */
  skip(label: string, kind: SkipKind, why: { code: string; reason: string }, digest?: string): Outcome {
    const { reason } = why;
    this.options.plan?.add({ kind: 'manifest', change: kind, name: label, reason, ...(digest === undefined ? {} : { digest }) });
    const report = SKIP_REPORT[kind];
    this.options.progress.increment(report.code, 1, report.message);
    this.options.metrics.manifest('skipped');
    this.options.metrics.skipped(why.code);
    const items = this.skippedItems[kind];
    if (items.length < MAX_REPORT_ITEMS) {
      items.push({ name: label, reason });
      this.options.progress.report(report.code, { message: report.message, items: [...items], state: kind === 'failed' ? 'failed' : 'skipped' });
    }
    return { accepted: false, kind, reason };
  }

  /**
   * A failure of one manifest is a skip of its kind; anything else, any failure
   * once the sync stops, or one that proves the upstream down (OutageBreaker),
   * is thrown. `gone`: the kind of a 404 here (see `visit`).
   */
  async skipOrThrow(label: string, error: unknown, gone: SkipKind = 'refused', digest?: string): Promise<Outcome> {
    let kind = skipKind(error);
    if (kind === undefined || this.options.failFast.signal.aborted) throw error;
    await this.options.outage.failed(error);
    if (isUpstreamError(error, 'MANIFEST_UNKNOWN')) kind = gone;
    return this.skip(label, kind, { code: skipCode(error), reason: describeSkip(error) }, digest);
  }

  /**
   * Settles what failed after the walk: manifests whose blobs failed, and every
   * index above a failed child, leave `accepted` for `failed`. Call once, after
   * the blobs have settled.
   */
  failManifests(digests: Iterable<string>, why: { code: string; reason: string }): void {
    for (const digest of digests) {
      if (this.fail(digest)) this.skip(digest, 'failed', why);
    }
    for (let changed = true; changed;) {
      changed = false;
      for (const [index, children] of this.childrenOf) {
        const child = children.find((c) => this.failed.has(c));
        if (child === undefined || !this.fail(index)) continue;
        this.skip(index, 'failed', { code: 'CHILD_FAILED', reason: `its child ${child} failed` });
        changed = true;
      }
    }
  }

  /** Records that an accepted manifest was brought in as a referrer of `subject`. */
  addReferrer(referrer: string, subject: string): void {
    const referrers = this.referrersOf.get(subject);
    if (referrers) referrers.push(referrer);
    else this.referrersOf.set(subject, [referrer]);
  }

  /**
   * The accepted manifests reachable from `roots` (tag targets, `includes`
   * digests) through index children and referrers: what a version holds. A
   * child accepted only under an index that failed is not in it.
   */
  reachableFrom(roots: Iterable<string>): Set<string> {
    const reached = new Set<string>();
    const pending: string[] = [];
    const reach = (digest: string) => {
      for (const name of [digest, this.otherNames.get(digest)]) {
        if (name === undefined || reached.has(name) || !this.accepted.has(name)) continue;
        reached.add(name);
        pending.push(name);
      }
    };
    for (const root of roots) reach(root);
    for (let digest = pending.pop(); digest !== undefined; digest = pending.pop()) {
      for (const child of this.childrenOf.get(digest) ?? []) reach(child);
      for (const referrer of this.referrersOf.get(digest) ?? []) reach(referrer);
    }
    return reached;
  }

  /** Moves an accepted manifest, under each of its names, to `failed`; false if it was not accepted. */
  private fail(digest: string): boolean {
    if (!this.accepted.has(digest)) return false;
    for (const name of [digest, this.otherNames.get(digest)]) {
      if (name === undefined) continue;
      this.accepted.delete(name);
      this.failed.add(name);
    }
    return true;
  }

  private async run(digest: string, label: string, gone: SkipKind, fetched: FetchedManifest | undefined): Promise<Outcome> {
    const { progress, mediaTypePolicy, failFast } = this.options;
    progress.checkpoint();
    failFast.check();
    let loaded: { parsed: ParsedManifest; isNew: boolean; schema1Sizes: Map<string, number> };
    try {
      loaded = await this.fetchOrLoad(digest, fetched);
    } catch (error) {
      const outcome = await this.skipOrThrow(label, error, gone, digest);
      if (!outcome.accepted && outcome.kind === 'failed') this.failed.add(digest);
      return outcome;
    }
    const decision = evaluatePolicy(loaded.parsed, mediaTypePolicy);
    if (decision.decision === 'reject') {
      return this.skip(label, 'refused', { code: 'MEDIA_TYPE_REFUSED', reason: `rejected by the media-type policy: ${decision.reason}` }, digest);
    }
    const children = this.keptChildren(loaded.parsed).map((child) => child.digest);
    let failedChild: string | undefined;
    let refusedChildren = 0;
    // A bounded pool over the children: an index of 20,000 entries keeps `concurrency` visits open, not 20,000.
    await failFast.each(children, this.options.concurrency, async (child) => {
      const outcome = await this.visit(child, `${label} > ${child}`, 'refused');
      if (outcome.accepted) return;
      if (outcome.kind === 'failed') failedChild ??= child;
      else refusedChildren += 1;
    });
    if (failedChild !== undefined) {
      this.failed.add(digest);
      return this.skip(label, 'failed', { code: 'CHILD_FAILED', reason: `its child ${failedChild} failed` }, digest);
    }
    // An index of refused manifests only (such as a tag-schema referrers index) would list nothing the version serves.
    if (children.length > 0 && refusedChildren === children.length) {
      return this.skip(label, 'refused', { code: 'CHILDREN_REFUSED', reason: 'every manifest this index lists was refused' }, digest);
    }
    const { plan } = this.options;
    if (loaded.isNew) plan?.add({ kind: 'manifest', change: 'new', name: label, digest });
    else plan?.count('manifestsStored');
    if (loaded.isNew) {
      if (!plan) await this.save(toManifestRecord(loaded.parsed, loaded.schema1Sizes, digest));
      progress.increment(Report.manifestsNew, 1, plan ? 'New manifests a sync would fetch and store.' : 'New manifests fetched from the upstream and stored.');
      // A dry-run fetches new manifests too (it stores none): they were fetched.
      this.options.metrics.manifest('fetched');
    } else {
      progress.increment(Report.manifestsUnchanged, 1, 'Manifests already stored, taken without a request.');
      this.options.metrics.manifest('reused');
    }
    this.options.onAccepted(loaded.parsed);
    // Under every name: referrers may name their subject by any of them.
    this.accepted.add(digest).add(loaded.parsed.digest);
    if (loaded.parsed.digest !== digest) this.otherNames.set(digest, loaded.parsed.digest).set(loaded.parsed.digest, digest);
    if (children.length > 0) this.childrenOf.set(digest, children);
    return { accepted: true, digest };
  }

  /** The stored manifest, or else the one fetched now (with its schema 1 blob sizes, which are upstream requests too). */
  private async fetchOrLoad(
    digest: string,
    prefetched?: FetchedManifest,
  ): Promise<{ parsed: ParsedManifest; isNew: boolean; schema1Sizes: Map<string, number> }> {
    const { client, maxManifestBytes, outage } = this.options;
    const stored = await this.findStored(digest);
    if (stored)
      return { parsed: parseManifest(stored.raw, { contentType: stored.mediaType, maxBytes: maxManifestBytes }), isNew: false, schema1Sizes: new Map() };
    const fetched = prefetched ?? (await client.getManifest(digest));
    const parsed = parseManifest(fetched.bytes, { contentType: fetched.mediaType, maxBytes: maxManifestBytes });
    const sizes = await schema1Sizes(client, parsed);
    outage.succeeded();
    return { parsed, isNew: true, schema1Sizes: sizes };
  }

  private async lookUpStored(digests: readonly string[]) {
    const { prisma } = this.options;
    const aliases = await resolveAliases(prisma, digests);
    const canonical = digests.map((d) => aliases.get(d) ?? d);
    const { hold } = this.options;
    // A dry-run relies on nothing it reads, so it reads without a touch: a dry-run never delays a cleanup.
    const rows = hold
      ? await touchManifests(prisma, canonical, hold)
      : await prisma.manifest.findMany({ where: { digest: { in: canonical } }, select: { digest: true, raw: true, mediaType: true } });
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
    const kept = new Set(manifests.filter((c) => !isAttestation(c) && (!c.platform || platformMatches(c.platform, platforms))).map((c) => c.digest));
    return manifests.filter((c) => (isAttestation(c) ? kept.has(c.annotations?.[Annotation.DockerReferenceDigest] ?? '') : kept.has(c.digest)));
  }
}

function isAttestation(child: Descriptor): boolean {
  return child.annotations?.[Annotation.DockerReferenceType] === 'attestation-manifest';
}

/** The manifest a HEAD had to GET (the upstream sent no digest), so that it is not fetched twice. */
function fetchedOf(info: ManifestInfo): FetchedManifest | undefined {
  return info.bytes === undefined ? undefined : { ...info, bytes: info.bytes };
}
