import { randomBytes } from 'node:crypto';
import type { Database } from '@cistern/db';
import { metricsRegistry } from '@cistern/metrics';
import { parseMetrics, sha256 } from '@cistern/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportStorageTotals } from '../src/storage/storage-metrics.ts';
import { testDatabase } from './database.ts';

let db: Database;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ db, cleanup } = await testDatabase());
});
afterAll(() => cleanup());

const HOUR_MS = 3_600_000;

/** The storage gauges as a scrape of this process shows them. */
async function scraped(): Promise<{ bytes: number[]; blobs: number[] }> {
  const scrape = parseMetrics(await metricsRegistry.metrics());
  return {
    bytes: scrape.series('cistern_storage_stored_bytes').map((s) => s.value),
    blobs: scrape.series('cistern_storage_blobs').map((s) => s.value),
  };
}

const storeBlob = (size: number) => db.prisma.blob.create({ data: { digest: sha256(randomBytes(32)), size, stored: true } });

describe('the storage gauges', () => {
  it('are read at start and every interval, never by a scrape', async () => {
    await storeBlob(100);
    const stopHourly = await exportStorageTotals(db.prisma, HOUR_MS);
    expect(await scraped()).toEqual({ bytes: [100], blobs: [1] });
    // A blob stored since: scrapes within the hour still show the reading taken at start.
    await storeBlob(20);
    expect(await scraped()).toEqual({ bytes: [100], blobs: [1] });
    expect(await scraped()).toEqual({ bytes: [100], blobs: [1] });
    stopHourly();

    // Read at start again, then refreshed by the interval alone.
    const stopFast = await exportStorageTotals(db.prisma, 200);
    expect(await scraped()).toEqual({ bytes: [120], blobs: [2] });
    await storeBlob(3);
    await expect.poll(scraped, { timeout: 5000, interval: 100 }).toEqual({ bytes: [123], blobs: [3] });
    stopFast();
  });
});
