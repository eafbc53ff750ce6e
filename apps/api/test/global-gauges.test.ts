import { scrapeMetrics } from '@cistern/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiHarness } from './harness.ts';

// Two APIs in one process, as tests build them: one registry, one set of global gauges.
const first = new ApiHarness();
const second = new ApiHarness();
beforeAll(async () => {
  await first.start();
  await second.start();
});
afterAll(async () => {
  await second.stop();
  await first.stop();
});

describe('the global gauges of an API built twice in one process', () => {
  it('are registered once and read from the latest API still running', async () => {
    await second.taskQueue.add('sync', { taskId: '00000000-0000-4000-8000-000000000001' });
    await second.taskQueue.add('sync', { taskId: '00000000-0000-4000-8000-000000000002' });
    await first.taskQueue.add('sync', { taskId: '00000000-0000-4000-8000-000000000003' });
    // Either port answers the process's one registry.
    for (const api of [first, second]) {
      const scrape = await scrapeMetrics(`${api.api.url}/metrics`);
      expect(scrape.value('cistern_queue_jobs', { queue: 'tasks', state: 'waiting' })).toBe(2);
      expect(scrape.series('cistern_storage_blobs')).toHaveLength(1);
    }
    await second.api.close();
    const scrape = await scrapeMetrics(`${first.api.url}/metrics`);
    expect(scrape.value('cistern_queue_jobs', { queue: 'tasks', state: 'waiting' })).toBe(1);
    expect(scrape.series('cistern_metrics_collect_errors_total')).toEqual([]);
  });
});
