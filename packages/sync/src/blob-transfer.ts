import { touchBlobs, type PrismaClient, type SyncPolicy } from '@cistern/db';
import { ingestBlob, manifestBlobs, recordRemoteArtifacts, StoredMarks, type ManifestBlob } from '@cistern/ingest';
import type { ParsedManifest } from '@cistern/oci';
import type { BlobStore } from '@cistern/storage';
import { isUpstreamError, type UpstreamClient } from '@cistern/upstream';
import PQueue from 'p-queue';
import { batched, batchedCalls, inKeyOrder, MAX_BATCH_KEYS } from './batched.ts';
import type { FailFast } from './fail-fast.ts';
import type { OutageBreaker } from './outage-breaker.ts';
import type { SyncPlan } from './sync-plan.ts';
import { describeSkip, skipCode, skipKind } from './sync-errors.ts';
import type { SyncMetrics } from './sync-metrics.ts';
import { MAX_REPORT_ITEMS, Report, type SyncProgress } from './sync-progress.ts';

export interface BlobTransferOptions {
  /** The sync's shared failure handling: one failure anywhere stops every download. */
  failFast: FailFast;
  prisma: PrismaClient;
  storage: BlobStore;
  client: UpstreamClient;
  progress: SyncProgress;
  metrics: SyncMetrics;
  /** immediate: download every blob; on_demand / streamed: only config blobs, and record the layers. */
  downloadPolicy: SyncPolicy;
  remoteId: string;
  upstreamName: string;
  concurrency: number;
  /** Downloads again, into a fresh sink, a blob whose bytes did not verify: this many times. */
  maxRetries: number;
  outage: OutageBreaker;
  /** A dry-run's plan: each blob to bring in is recorded there instead, with no request and no write. */
  plan?: SyncPlan;
}

const blobsMessage = 'Blobs downloaded and verified.';
const blobsFailedMessage = 'Blobs that could not be brought in; the manifests needing them were kept as they were.';

/**
 * Brings in the blobs of accepted manifests while the sync is still walking
 * manifests, so downloads overlap the manifest phase.
 *
 * `immediate`: every distributable blob not yet stored is downloaded and verified.
 * `on_demand` / `streamed`: config blobs are downloaded (clients always need them
 * and they are small); layers are recorded as remote artifacts for the registry
 * to fetch on first pull. Foreign layers are recorded, never downloaded. A
 * downloaded blob is recorded as a remote artifact too, once stored: what makes
 * its file reclaimable (packages/storage-lifecycle).
 *
 * A blob that cannot be brought in (upstream error, digest or size that never
 * verifies) fails the manifests that need it, and the sync goes on; anything
 * else (storage, database, credentials, cancel) stops every download
 * (FailFast), and `settle` waits for all of them, so no write is in flight
 * when the task fails.
 */
export class BlobTransfer {
  /** blob digest → the manifests that need it, to know which fail with it. */
  private readonly neededBy = new Map<string, string[]>();
  private readonly failedBlobs = new Set<string>();
  /** Manifests with a blob that failed. */
  readonly failedManifests = new Set<string>();
  private readonly failedItems: { name: string; reason: string }[] = [];
  private readonly pending: Promise<void>[] = [];
  private readonly queue: PQueue;
  private scheduled = 0;
  /** Manifests accepted together share one lookup of their blobs, and one insert of remote artifacts. */
  private readonly lookUp = batched((digests: readonly string[]) => this.lookUpBlobs(digests), MAX_BATCH_KEYS);
  private readonly record = batchedCalls((needs: readonly ManifestBlob[]) => recordRemoteArtifacts(this.options.prisma, this.options, needs), MAX_BATCH_KEYS);
  /** Blobs about to be stored are touched together, under the sync's hold: a reclaim then leaves their files alone. */
  private readonly touch = batchedCalls((digests: readonly string[]) => touchBlobs(this.options.prisma, digests), MAX_BATCH_KEYS);
  /** One UPDATE per 50 blobs stored instead of one each. */
  private readonly marks: StoredMarks;

  constructor(private readonly options: BlobTransferOptions) {
    this.queue = new PQueue({ concurrency: options.concurrency });
    this.marks = new StoredMarks(options.prisma, 50);
  }

  /** Schedules the blobs of one accepted manifest (each digest once per sync). */
  add(parsed: ParsedManifest): void {
    for (const need of manifestBlobs(parsed)) {
      const needers = this.neededBy.get(need.digest);
      if (needers) {
        needers.push(parsed.digest);
        if (this.failedBlobs.has(need.digest)) this.failedManifests.add(parsed.digest);
        continue;
      }
      this.neededBy.set(need.digest, [parsed.digest]);
      this.pending.push(this.options.failFast.guard(this.bringIn(need).catch((error: unknown) => this.fail(need.digest, error))));
    }
  }

  /** A blob that failed on its own fails its manifests; any other failure stops the sync. */
  private async fail(digest: string, error: unknown): Promise<void> {
    if (skipKind(error) === undefined || this.options.failFast.signal.aborted) throw error;
    await this.options.outage.failed(error);
    const reason = describeSkip(error);
    this.failedBlobs.add(digest);
    for (const manifest of this.neededBy.get(digest) ?? []) this.failedManifests.add(manifest);
    this.options.progress.increment(Report.blobsFailed, 1, blobsFailedMessage);
    this.options.metrics.blob('skipped');
    this.options.metrics.skipped(skipCode(error));
    if (this.failedItems.length < MAX_REPORT_ITEMS) {
      this.failedItems.push({ name: digest, reason });
      this.options.progress.report(Report.blobsFailed, { message: blobsFailedMessage, items: [...this.failedItems], state: 'failed' });
    }
  }

  /**
   * Waits for every scheduled transfer, also when the sync already failed (then
   * they stop early), and marks what was stored, for the next run to reuse.
   */
  async settle(): Promise<void> {
    // Waits until nothing new appears, should an add() come in while it waits.
    for (let settled = 0; settled < this.pending.length;) {
      const batch = this.pending.slice(settled);
      settled += batch.length;
      await Promise.all(batch);
    }
    await this.marks.flush();
    this.options.failFast.rethrow();
    const message = this.options.plan ? 'A dry-run downloads no blobs: its plan lists those a sync would bring in.' : blobsMessage;
    this.options.progress.report(Report.blobs, { message, state: 'completed' });
  }

  private async bringIn(need: ManifestBlob): Promise<void> {
    const { downloadPolicy, progress } = this.options;
    const row = await this.lookUp(need.digest);
    if (need.size < 0) need.size = Number(row?.size ?? 0);
    if (row?.stored) return this.options.metrics.blob('reused');
    this.options.failFast.check();
    const recordOnly = need.foreign || (downloadPolicy !== 'immediate' && need.role !== 'config');
    // A dry-run only plans: what it would download or record is not counted.
    if (this.options.plan) return this.options.plan.add({ kind: 'blob', change: recordOnly ? 'record' : 'download', digest: need.digest, size: need.size });
    if (recordOnly) {
      await this.record(need);
      this.options.metrics.blob('deferred');
      return;
    }
    this.scheduled += 1;
    progress.report(Report.blobs, { message: blobsMessage, total: this.scheduled });
    // Largest first: a big blob found late must not wait behind hundreds of small ones, or it alone fills the sync's tail.
    await this.queue.add(() => this.transfer(need), { priority: need.size });
  }

  private async lookUpBlobs(digests: readonly string[]) {
    const rows = await this.options.prisma.blob.findMany({ where: { digest: { in: [...digests] } }, select: { digest: true, size: true, stored: true } });
    return inKeyOrder(digests, rows, (row) => row.digest);
  }

  private async transfer(need: ManifestBlob): Promise<void> {
    const { storage, progress, failFast } = this.options;
    failFast.check();
    progress.checkpoint();
    await this.touch(need.digest);
    // Stored by an earlier run that stopped before marking it: only the mark is missing.
    if (await storage.exists(need.digest)) {
      await this.marks.mark(need.digest);
      this.options.metrics.blob('reused');
    } else {
      await this.download(need);
    }
    // Where it came from, as for an on-demand layer: a reclaim may drop the file, and a pull fetches it here again.
    await this.record({ ...need, urls: [] });
    progress.increment(Report.blobs, 1, blobsMessage);
  }

  /** A connection that breaks is resumed by the client; bytes that do not verify are fetched anew. */
  private async download(need: ManifestBlob): Promise<void> {
    const { client, storage, failFast, maxRetries } = this.options;
    for (let attempt = 0; ; attempt += 1) {
      try {
        await ingestBlob(client, need, { store: storage, marks: this.marks }, { signal: failFast.signal });
        break;
      } catch (error) {
        // Only bytes that hashed wrong may come right; a size the upstream declares wrongly stays wrong.
        if (!isUpstreamError(error, 'DIGEST_MISMATCH') || attempt >= maxRetries || failFast.signal.aborted) throw error;
      }
    }
    this.options.outage.succeeded();
    this.options.progress.increment(Report.bytes, need.size, 'Bytes downloaded and verified.');
    this.options.metrics.blob('fetched');
    this.options.metrics.downloaded(need.size);
  }
}
