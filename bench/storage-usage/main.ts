/**
 * Times the storage usage figures on a store of many rows: GET /api/v1/storage
 * and GET /api/v1/repositories/{id} (a large and a small repository), through
 * the running API.
 *
 *   npx tsx bench/storage-usage/main.ts [--blobs 100000] [--repos 20] [--runs 5] [--keep]
 *
 * The content is rows only (no blob files), inserted by generate_series: half as
 * many manifests as blobs, each with its own config and layer plus one of 200
 * shared base layers; one large repository holds half of the manifests, and
 * nine in ten of them are spread over the others; one in ten blobs is not
 * stored (on demand); the rest are orphans. --keep leaves the database to
 * EXPLAIN in and prints its URL. Needs PostgreSQL and Redis on 127.0.0.1, as
 * the tests do.
 */
import { parseArgs } from 'node:util';
import { openDatabase } from '@cistern/db';
import { createTestDatabase, createTestRedisPrefix, makeTempDir, removeDir } from '@cistern/testkit';
import { BENCH_ADMIN_TOKEN, startBenchApi } from '../shared/start-bench-api.ts';
import { fillContentRows } from './content-rows.ts';

async function timed(url: string, runs: number): Promise<{ ms: number; body: unknown }> {
  const times: number[] = [];
  let body: unknown;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const response = await fetch(url, { headers: { authorization: `Bearer ${BENCH_ADMIN_TOKEN}` } });
    body = await response.json();
    times.push(performance.now() - start);
    if (!response.ok) throw new Error(`${url}: ${response.status} ${JSON.stringify(body)}`);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)] as number, body };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      blobs: { type: 'string', default: '100000' },
      repos: { type: 'string', default: '20' },
      runs: { type: 'string', default: '5' },
      keep: { type: 'boolean' },
    },
  });
  const [blobs, repos, runs] = [Number(values.blobs), Number(values.repos), Number(values.runs)];
  const scratch = await makeTempDir('bench-usage');
  const testDb = await createTestDatabase();
  const redis = createTestRedisPrefix();
  const db = await openDatabase({ databaseUrl: testDb.url, dataDir: scratch, allowEmbedded: false });
  try {
    const fillStart = performance.now();
    const ids = await fillContentRows(db.prisma, blobs, repos);
    console.log(`filled ${blobs} blobs, ${Math.floor(blobs / 2)} manifests, ${repos} repositories in ${((performance.now() - fillStart) / 1000).toFixed(1)} s`);
    const api = await startBenchApi({ db, databaseUrl: testDb.url, redisPrefix: redis.prefix, scratch });
    try {
      for (const [name, path] of [
        ['GET /api/v1/storage', '/api/v1/storage'],
        ['GET /api/v1/repositories/{large}', `/api/v1/repositories/${ids.large}`],
        ['GET /api/v1/repositories/{small}', `/api/v1/repositories/${ids.small}`],
      ] as const) {
        const { ms, body } = await timed(api.url + path, runs);
        const shown = 'usage' in (body as object) ? (body as { usage: unknown }).usage : body;
        console.log(`${name.padEnd(34)} median of ${runs}: ${ms.toFixed(1).padStart(8)} ms  ${JSON.stringify(shown)}`);
      }
    } finally {
      await api.close();
    }
  } finally {
    await db.close();
    await redis.cleanup();
    await removeDir(scratch);
    if (values.keep) console.log(`kept ${testDb.url}`);
    else await testDb.drop();
  }
}

await main();
