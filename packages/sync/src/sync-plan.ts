import type { PrismaClient } from '@cistern/db';
import { z } from 'zod';

/**
 * What a sync dry-run's task reports as its `result`: the counts of its plan
 * (what a real sync of the same repository would do now). The entries
 * themselves are read in pages from `plan`.
 */
export const syncPlanSummarySchema = z.object({
  dryRun: z.literal(true),
  tagsAdded: z.number().int().describe('tags the new version would gain'),
  tagsMoved: z.number().int().describe('tags that would point at another manifest'),
  tagsRemoved: z.number().int().describe('tags a mirror sync would drop (never for an additive one)'),
  tagsUnchanged: z.number().int(),
  manifestsNew: z.number().int().describe('manifests a sync would fetch and store'),
  manifestsStored: z.number().int().describe('manifests already stored: a sync takes them without a request'),
  manifestsRefused: z.number().int().describe('manifests refused: malformed, of an unknown type, denied by the media-type policy, gone upstream'),
  manifestsFailed: z.number().int().describe('manifests that could not be brought in'),
  manifestsRemoved: z.number().int().describe('manifests a mirror sync would drop from the version'),
  blobsToDownload: z.number().int(),
  bytesToDownload: z.number().int(),
  blobsToRecord: z.number().int().describe('blobs a sync would record to fetch on first pull (on-demand, streamed, foreign)'),
  plan: z.string().describe('href of the plan entries, in pages: ?kind=tags|manifests|blobs'),
});

/** The counts of a plan; see syncPlanSummarySchema. */
export type SyncPlanSummary = z.infer<typeof syncPlanSummarySchema>;
/** A plan's counts, without the href the task adds. */
export type SyncPlanCounts = Omit<SyncPlanSummary, 'dryRun' | 'plan'>;

/**
 * One entry of a plan, as the walker, the blob transfer and the tag comparison
 * decide it. What stays as it is (a tag unchanged, a manifest already stored)
 * is only counted: a plan of a repository that did not change has no rows.
 */
export type PlanEntry =
  | { kind: 'tag'; change: 'added' | 'moved' | 'removed'; name: string; digest: string; fromDigest?: string }
  | { kind: 'manifest'; change: 'new' | 'refused' | 'failed'; name: string; digest?: string; reason?: string }
  | { kind: 'blob'; change: 'download' | 'record'; digest: string; size: number };

const COUNTED = {
  tag: { added: 'tagsAdded', moved: 'tagsMoved', removed: 'tagsRemoved' },
  manifest: { new: 'manifestsNew', refused: 'manifestsRefused', failed: 'manifestsFailed' },
  blob: { download: 'blobsToDownload', record: 'blobsToRecord' },
} as const;

function countOf(entry: PlanEntry): keyof SyncPlanCounts {
  switch (entry.kind) {
    case 'tag':
      return COUNTED.tag[entry.change];
    case 'manifest':
      return COUNTED.manifest[entry.change];
    case 'blob':
      return COUNTED.blob[entry.change];
  }
}

/** Entries per INSERT. */
const BATCH = 500;

/**
 * The plan of a sync dry-run, given to the sync in place of the steps that
 * store: the walker, the blob transfer and the tag comparison record here what
 * they would do. Entries go to the database in batches as they come (a plan of
 * a million tags is never held), under the task's id; `flush` writes the rest
 * and raises the first write that failed; `close` ends the writing however the
 * run ended. Only the latest plan of a repository is kept (see `clear`).
 */
export class SyncPlan {
  private readonly counts: SyncPlanCounts = {
    tagsAdded: 0,
    tagsMoved: 0,
    tagsRemoved: 0,
    tagsUnchanged: 0,
    manifestsNew: 0,
    manifestsStored: 0,
    manifestsRefused: 0,
    manifestsFailed: 0,
    manifestsRemoved: 0,
    blobsToDownload: 0,
    bytesToDownload: 0,
    blobsToRecord: 0,
  };
  private buffer: PlanEntry[] = [];
  private writing: Promise<void> = Promise.resolve();
  private failure: unknown;
  private closed = false;

  /** `resource`: the task's, `repository:<id>`: sync tasks of one repository run one at a time under its lock. */
  constructor(
    private readonly prisma: PrismaClient,
    private readonly taskId: string,
    private readonly resource: string,
  ) {}

  /**
   * Drops what an earlier run of the task planned (a recovered task plans
   * afresh) and the plans of the repository's earlier dry-runs: only the
   * latest is kept, so plans never pile up. Their tasks keep their counts; their
   * plan pages then list nothing. Safe under the task's lock: no other sync of
   * the repository runs meanwhile.
   */
  async clear(): Promise<void> {
    await this.prisma.syncPlanEntry.deleteMany({ where: { task: { kind: 'sync', resource: this.resource } } });
  }

  /** Records one decision: counted at once, written with its batch (every BATCH entries, and at `flush`). */
  add(entry: PlanEntry): void {
    this.counts[countOf(entry)] += 1;
    if (entry.kind === 'blob' && entry.change === 'download') this.counts.bytesToDownload += entry.size;
    this.buffer.push(entry);
    if (this.buffer.length >= BATCH) this.write();
  }

  /** Counts what has no entry of its own: tags that stay as they are, manifests already stored, manifests a mirror would drop. */
  count(what: 'tagsUnchanged' | 'manifestsStored' | 'manifestsRemoved', by = 1): void {
    this.counts[what] += by;
  }

  /** Writes what is buffered and waits for every write. */
  async flush(): Promise<SyncPlanCounts> {
    this.write();
    await this.writing;
    if (this.failure !== undefined) throw this.failure;
    return { ...this.counts };
  }

  /**
   * Ends the writing, after `flush` or instead of it (a run that failed or was
   * canceled): drops what is buffered, skips queued batches and waits for the
   * one in flight, so that nothing lands once the run has ended.
   */
  async close(): Promise<void> {
    this.closed = true;
    this.buffer = [];
    await this.writing;
  }

  private write(): void {
    const batch = this.buffer;
    if (batch.length === 0) return;
    this.buffer = [];
    const data = batch.map((entry) => ({
      taskId: this.taskId,
      kind: entry.kind,
      change: entry.change,
      name: 'name' in entry ? entry.name : null,
      digest: entry.digest ?? null,
      fromDigest: entry.kind === 'tag' ? (entry.fromDigest ?? null) : null,
      reason: entry.kind === 'manifest' ? (entry.reason ?? null) : null,
      size: entry.kind === 'blob' ? BigInt(entry.size) : null,
    }));
    // Chained: batches land in the order they were decided, so pages read in that order.
    this.writing = this.writing
      .then(async () => {
        if (this.failure === undefined && !this.closed) await this.prisma.syncPlanEntry.createMany({ data });
      })
      .catch((error: unknown) => {
        this.failure ??= error;
      });
  }
}
