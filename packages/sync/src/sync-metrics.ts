import { metricsRegistry } from '@cistern/metrics';
import { Counter } from 'prom-client';

const manifests = new Counter({
  name: 'cistern_sync_manifests_total',
  help: 'Manifests the syncs took: fetched from the upstream, reused (already stored, no request), or skipped (refused or failed)',
  labelNames: ['remote', 'outcome'] as const,
  registers: [metricsRegistry],
});

const blobs = new Counter({
  name: 'cistern_sync_blobs_total',
  help: 'Blobs the syncs needed: fetched (downloaded and verified), reused (already stored), skipped (failed), or deferred (on_demand/streamed layers and foreign layers, recorded for pulls to fetch)',
  labelNames: ['remote', 'outcome'] as const,
  registers: [metricsRegistry],
});

const skips = new Counter({
  name: 'cistern_sync_skips_total',
  help: 'Manifests and blobs a sync skipped, by the code of the reason (an error code such as MANIFEST_UNKNOWN, or MEDIA_TYPE_REFUSED, CHILD_FAILED, CHILDREN_REFUSED, BLOB_FAILED)',
  labelNames: ['remote', 'reason'] as const,
  registers: [metricsRegistry],
});

const downloadedBytes = new Counter({
  name: 'cistern_sync_downloaded_bytes_total',
  help: 'Bytes of blobs the syncs downloaded and verified',
  labelNames: ['remote'] as const,
  registers: [metricsRegistry],
});

export type ManifestOutcome = 'fetched' | 'reused' | 'skipped';
export type BlobOutcome = 'fetched' | 'reused' | 'skipped' | 'deferred';

/**
 * The sync metrics of one remote (by its name). The sync counts each manifest
 * and blob where its progress reports count it; a dry-run counts only what it
 * did (manifests it fetched or found stored, blobs it found stored, skips),
 * never the downloads and records it only planned.
 */
export class SyncMetrics {
  constructor(private readonly remote: string) {}

  manifest(outcome: ManifestOutcome): void {
    manifests.inc({ remote: this.remote, outcome });
  }

  blob(outcome: BlobOutcome): void {
    blobs.inc({ remote: this.remote, outcome });
  }

  /** A manifest or blob skipped; `reason` is a code from a bounded set (skipCode, or the walker's own). */
  skipped(reason: string): void {
    skips.inc({ remote: this.remote, reason });
  }

  /** A blob of `bytes` downloaded and verified. */
  downloaded(bytes: number): void {
    downloadedBytes.inc({ remote: this.remote }, bytes);
  }
}
