import { randomBytes } from 'node:crypto';
import {
  createTestDatabase,
  createTestRedisPrefix,
  freePort,
  makeTempDir,
  pushImage,
  removeDir,
  scrapeMetrics,
  startDistribution,
  TEST_REDIS_URL,
  type Distribution,
  type TestDatabase,
} from '@cistern/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiAndWorker, startProcess, waitForReady, type SeparateCistern, type Started } from './processes.ts';

let upstream: Distribution;
let db: TestDatabase;
let redis: ReturnType<typeof createTestRedisPrefix>;
let dataDir: string;
let cistern: SeparateCistern;
const extra: Started[] = [];

beforeAll(async () => {
  upstream = await startDistribution();
  db = await createTestDatabase();
  redis = createTestRedisPrefix();
  dataDir = await makeTempDir('global-metrics');
  cistern = await startApiAndWorker({ databaseUrl: db.url, redisUrl: TEST_REDIS_URL, redisPrefix: redis.prefix, dataDir });
}, 120_000);
afterAll(async () => {
  for (const run of extra) run.child.kill('SIGTERM');
  await Promise.all(extra.map((run) => run.exited));
  await cistern.stop();
  await upstream.stop();
  await redis.cleanup();
  await db.drop();
  await removeDir(dataDir);
});

const metricsOf = (port: string) => scrapeMetrics(`http://127.0.0.1:${port}/metrics`);
const finished = (task: { state: string }) => !['waiting', 'running', 'canceling'].includes(task.state);

describe('the global gauges of a real API', () => {
  it('export the last successful sync of each repository, the stored blobs and the queued jobs; a worker exports none of them', async () => {
    const image = await pushImage(upstream, 'team/app', '1.0', { layers: [randomBytes(4096), randomBytes(8192)] });
    const manifest = JSON.parse(image.bytes.toString()) as { config: { size: number }; layers: { size: number }[] };
    const syncId = await cistern.sync({ url: upstream.url, upstreamName: 'team/app' });
    const sync = await cistern.waitTask(syncId, finished, 60_000);
    expect(sync.state).toBe('completed');

    const api = await metricsOf(cistern.env.API_PORT);
    expect(api.series('cistern_repository_last_sync_success_timestamp_seconds')).toEqual([
      {
        name: 'cistern_repository_last_sync_success_timestamp_seconds',
        labels: { repository: 'repo-1', remote: 'remote-1' },
        value: Date.parse(sync.finishedAt ?? '') / 1000,
      },
    ]);
    // This API's storage totals are not asserted: read at its start, before the sync, they are read again each minute,
    // which a slow machine may reach by now. packages/domain/test/storage-metrics.test.ts proves a scrape never reads
    // them; an API started after the sync shows them below.
    const worker = await metricsOf(cistern.env.WORKER_PORT);
    for (const name of [
      'cistern_queue_jobs',
      'cistern_storage_stored_bytes',
      'cistern_storage_blobs',
      'cistern_repository_last_sync_success_timestamp_seconds',
    ]) {
      expect(worker.series(name)).toEqual([]);
    }
    expect(worker.samples.length).toBeGreaterThan(0);

    // A dry-run completes too, but syncs nothing: the gauge keeps the real sync's time.
    const repos = await cistern.call('GET', '/repositories?name=repo-1');
    const repoId = (repos.body.results as { id: string }[])[0]?.id;
    const dry = await cistern.call('POST', `/repositories/${repoId}/sync`, { mirror: true, dryRun: true });
    expect((await cistern.waitTask((dry.body.task as { id: string }).id, finished, 60_000)).state).toBe('completed');
    expect((await metricsOf(cistern.env.API_PORT)).series('cistern_repository_last_sync_success_timestamp_seconds', { repository: 'repo-1' })[0]?.value).toBe(
      Date.parse(sync.finishedAt ?? '') / 1000,
    );

    // Another API started now reads the storage totals at its start: the image's config and layers, one series each.
    const laterPort = String(await freePort());
    const later = startProcess('apps/api/src/main.ts', { ...cistern.env, API_PORT: laterPort });
    extra.push(later);
    await waitForReady(`http://127.0.0.1:${laterPort}/readyz`, { of: later });
    const storage = await metricsOf(laterPort);
    const storedBytes = manifest.config.size + manifest.layers.reduce((sum, layer) => sum + layer.size, 0);
    expect(storage.series('cistern_storage_stored_bytes').map((s) => s.value)).toEqual([storedBytes]);
    expect(storage.series('cistern_storage_blobs').map((s) => s.value)).toEqual([image.blobs.length]);

    // With the worker stopped, syncs wait in the task queue.
    cistern.worker.child.kill('SIGTERM');
    await cistern.worker.exited;
    for (let i = 0; i < 3; i++) await cistern.sync({ url: upstream.url, upstreamName: 'team/app' });
    const queued = await metricsOf(cistern.env.API_PORT);
    expect(queued.value('cistern_queue_jobs', { queue: 'tasks', state: 'waiting' })).toBe(3);
    expect(queued.value('cistern_queue_jobs', { queue: 'tasks', state: 'active' })).toBe(0);
    expect(queued.series('cistern_queue_jobs', { queue: 'schedules' }).map((s) => s.labels.state)).toEqual(['waiting', 'active', 'delayed', 'failed']);
    expect(queued.series('cistern_metrics_collect_errors_total')).toEqual([]);
  }, 120_000);
});
