/** What the sync needs from its task: progress reports and safe points to stop at. */
export interface SyncProgress {
  /** Every update says in a sentence what the report counts. */
  report(
    code: string,
    update: {
      message: string;
      done?: number;
      total?: number | null;
      state?: 'running' | 'completed' | 'failed' | 'skipped';
      items?: { name: string; reason: string }[];
    },
  ): unknown;
  increment(code: string, by: number, message: string): void;
  /** Throws when the task was canceled. */
  checkpoint(): void;
  readonly signal: AbortSignal;
}

/** Progress report codes, declared once. */
export const Report = {
  tags: 'sync.tags',
  manifestsNew: 'sync.manifests.new',
  manifestsUnchanged: 'sync.manifests.unchanged',
  manifestsRefused: 'sync.manifests.refused',
  manifestsFailed: 'sync.manifests.failed',
  blobs: 'sync.blobs',
  blobsFailed: 'sync.blobs.failed',
  bytes: 'sync.bytes',
  referrers: 'sync.referrers',
  referrersFailed: 'sync.referrers.failed',
  rateLimit: 'sync.ratelimit',
  version: 'sync.version',
} as const;

/** At most this many skipped manifests are named individually in a report. */
export const MAX_REPORT_ITEMS = 100;
