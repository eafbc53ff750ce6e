import type { PrismaClient } from '@cistern/db';
import { countCollectError, sourcedGauge } from '@cistern/metrics';
import { blobTotals, type BlobTotals } from './blob-totals.ts';

const storedBytes = sourcedGauge({
  name: 'cistern_storage_stored_bytes',
  help: 'Total size of the blobs whose bytes are in storage, in bytes (refreshed every minute by the API)',
  source: 'storage',
});
const storedBlobs = sourcedGauge({
  name: 'cistern_storage_blobs',
  help: 'Blobs whose bytes are in storage (refreshed every minute by the API)',
  source: 'storage',
});

/** How often the storage gauges read the Blob table: a scan of it, too dear for every scrape of a large store. */
const REFRESH_MS = 60_000;

/**
 * Exports `cistern_storage_stored_bytes` and `cistern_storage_blobs` from the
 * Blob table, read now (resolved once read) and every `everyMs` after. A
 * failed refresh counts in `cistern_metrics_collect_errors_total{source="storage"}`
 * and the gauges keep the last reading; before a first one they have no
 * series. Returns the function that stops it.
 */
export async function exportStorageTotals(prisma: PrismaClient, everyMs = REFRESH_MS): Promise<() => void> {
  let latest: BlobTotals | undefined;
  let refreshing = false;
  const refresh = async () => {
    // A refresh slower than the interval is not doubled up.
    if (refreshing) return;
    refreshing = true;
    try {
      latest = await blobTotals(prisma);
    } catch {
      countCollectError('storage');
    } finally {
      refreshing = false;
    }
  };
  await refresh();
  const timer = setInterval(() => void refresh(), everyMs);
  timer.unref();
  const unbind = [
    storedBytes.bind(async () => (latest ? [{ labels: {}, value: latest.storedBytes }] : [])),
    storedBlobs.bind(async () => (latest ? [{ labels: {}, value: latest.storedCount }] : [])),
  ];
  return () => {
    clearInterval(timer);
    for (const stop of unbind) stop();
  };
}
