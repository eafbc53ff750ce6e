/**
 * What a Prometheus scrape of the API's /metrics costs with many repositories:
 * ms (median and p95) and bytes, against a peer on the same series.
 *
 *   npm run bench:metrics -- [--repos 1000] [--syncs 20] [--jobs 1000] [--scrapes 50]
 *
 * The data is rows only, inserted by SQL: bench/storage-usage's content
 * (20,000 blobs spread over the repositories), then per repository `syncs`
 * sync tasks an hour apart (every fifth failed) and a newer dry-run, which
 * the last-success gauge must skip; and `jobs` waiting plus 50 delayed jobs
 * in the task queue. A real API (startApi) serves /metrics.
 *
 * The peer is a bare prom-client registry holding the same series with their
 * values set in advance (the process defaults, and the same queue, storage
 * and last-success series), served the same way by express: the difference
 * is what reading Redis and PostgreSQL at scrape time costs, over writing the
 * same exposition. Scrapes of the two alternate, so both see the same machine.
 * Needs PostgreSQL and Redis on 127.0.0.1, as the tests do.
 */
import { parseArgs } from 'node:util';
import { openDatabase, Prisma } from '@cistern/db';
import { lastSyncSuccessQuery } from '@cistern/domain';
import { createTaskQueue, redisConnectionOptions } from '@cistern/queue';
import { createTestDatabase, createTestRedisPrefix, makeTempDir, parseMetrics, removeDir, TEST_REDIS_URL } from '@cistern/testkit';
import express from 'express';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { startBenchApi } from '../shared/start-bench-api.ts';
import { fillContentRows } from '../storage-usage/content-rows.ts';

interface Scraped {
  ms: number[];
  bytes: number;
  text: string;
}

async function scrape(url: string, into: Scraped): Promise<void> {
  const start = performance.now();
  const response = await fetch(url);
  const text = await response.text();
  into.ms.push(performance.now() - start);
  if (response.status !== 200) throw new Error(`${url}: ${response.status} ${text.slice(0, 200)}`);
  into.bytes = Buffer.byteLength(text);
  into.text = text;
}

const quantile = (values: number[], q: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))] ?? NaN;

/** A registry with the process defaults and the same cistern_* gauge series as `text`, values fixed. */
function staticPeer(text: string): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const families = new Map<string, { labels: Record<string, string>; value: number }[]>();
  for (const sample of parseMetrics(text).samples) {
    if (sample.name.startsWith('cistern_')) families.set(sample.name, [...(families.get(sample.name) ?? []), sample]);
  }
  for (const [name, samples] of families) {
    const gauge = new Gauge({ name, help: `${name} (fixed)`, labelNames: Object.keys(samples[0]?.labels ?? {}), registers: [registry] });
    for (const { labels, value } of samples) gauge.set(labels, value);
  }
  return registry;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      repos: { type: 'string', default: '1000' },
      syncs: { type: 'string', default: '20' },
      jobs: { type: 'string', default: '1000' },
      scrapes: { type: 'string', default: '50' },
    },
  });
  const [repos, syncs, jobs, scrapes] = [Number(values.repos), Number(values.syncs), Number(values.jobs), Number(values.scrapes)];
  const scratch = await makeTempDir('bench-metrics');
  const testDb = await createTestDatabase();
  const redis = createTestRedisPrefix();
  const db = await openDatabase({ databaseUrl: testDb.url, dataDir: scratch, allowEmbedded: false });
  const queue = createTaskQueue({ connection: redisConnectionOptions(TEST_REDIS_URL), prefix: redis.prefix });
  try {
    const fillStart = performance.now();
    await fillContentRows(db.prisma, 20_000, repos);
    await db.prisma.$executeRawUnsafe(`
      INSERT INTO "Task" (id, kind, state, resource, params, "createdAt", "startedAt", "finishedAt", "updatedAt")
      SELECT gen_random_uuid(), 'sync', (CASE WHEN h % 5 = 0 THEN 'failed' ELSE 'completed' END)::"TaskState", 'repository:' || r.id,
             jsonb_build_object('repositoryId', r.id, 'remoteId', '00000000-0000-4000-8000-00000000ffff', 'mirror', true)
               || (CASE WHEN h > ${syncs} THEN '{"dryRun": true}' ELSE '{}' END)::jsonb,
             t - interval '1 minute', t - interval '1 minute', t, t
        FROM "Repository" r, generate_series(1, ${syncs + 1}) h, LATERAL (SELECT now() - (${syncs + 1} - h) * interval '1 hour' AS t) at`);
    await db.prisma.$executeRawUnsafe('VACUUM ANALYZE "Task"');
    for (let i = 0; i < jobs; i += 500) {
      await queue.addBulk(Array.from({ length: Math.min(500, jobs - i) }, () => ({ name: 'sync', data: { taskId: crypto.randomUUID() } })));
    }
    await queue.addBulk(Array.from({ length: 50 }, () => ({ name: 'sync', data: { taskId: crypto.randomUUID() }, opts: { delay: 3_600_000 } })));
    console.log(
      `filled ${repos} repositories with ${repos * (syncs + 1)} sync tasks and 20000 blobs, ${jobs + 50} queue jobs in ${((performance.now() - fillStart) / 1000).toFixed(1)} s`,
    );
    const plan = await db.prisma.$queryRaw<{ 'QUERY PLAN': string }[]>(Prisma.sql`EXPLAIN (ANALYZE, COSTS OFF) ${lastSyncSuccessQuery}`);
    // The gauge's own query: one short backward index walk per repository, whatever the history.
    console.log(`last-success plan:\n  ${plan.map((row) => row['QUERY PLAN']).join('\n  ')}`);

    const api = await startBenchApi({ db, databaseUrl: testDb.url, redisPrefix: redis.prefix, scratch });
    try {
      const cistern: Scraped = { ms: [], bytes: 0, text: '' };
      // Warm-up: connections opened, statements planned.
      for (let i = 0; i < 3; i++) await scrape(`${api.url}/metrics`, cistern);
      cistern.ms = [];
      const series = parseMetrics(cistern.text).series('cistern_repository_last_sync_success_timestamp_seconds').length;
      if (series !== repos) throw new Error(`expected ${repos} last-success series, scraped ${series}`);
      const registry = staticPeer(cistern.text);
      const app = express();
      app.get('/metrics', async (_req, res) => {
        res.set('content-type', registry.contentType).send(await registry.metrics());
      });
      const server = app.listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      const peerUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/metrics`;
      const peer: Scraped = { ms: [], bytes: 0, text: '' };
      try {
        for (let i = 0; i < 3; i++) await scrape(peerUrl, peer);
        peer.ms = [];
        for (let i = 0; i < scrapes; i++) {
          await scrape(`${api.url}/metrics`, cistern);
          await scrape(peerUrl, peer);
        }
      } finally {
        server.close();
      }
      const line = (name: string, s: Scraped) =>
        `${name.padEnd(46)} median ${quantile(s.ms, 0.5).toFixed(1).padStart(6)} ms  p95 ${quantile(s.ms, 0.95).toFixed(1).padStart(6)} ms  ${String(s.bytes).padStart(7)} bytes`;
      console.log(`${scrapes} scrapes each, alternating; ${series} last-success series`);
      console.log(line('API /metrics (global gauges read live)', cistern));
      console.log(line('peer: same series, values fixed in advance', peer));
    } finally {
      await api.close();
    }
  } finally {
    await queue.close();
    await db.close();
    await redis.cleanup();
    await removeDir(scratch);
    await testDb.drop();
  }
}

await main();
