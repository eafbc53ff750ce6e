/**
 * Serves one image from Cistern's registry and from CNCF Distribution 2.8.2
 * side by side on this machine, loads each with wrk (HEAD: head-load.ts)
 * in the same run, and
 * prints requests/s, MB/s and p99 latency with Cistern/Distribution ratios.
 *
 *   npx tsx bench/serve/main.ts [--seconds 5] [--connections 32]
 *
 * Needs PostgreSQL and Redis on 127.0.0.1 (as the tests do) and Debian's wrk.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createLogger, envSchema } from '@cistern/config';
import { openDatabase } from '@cistern/db';
import { createRedisWatch } from '@cistern/queue';
import { startRegistry } from '@cistern/registry';
import { FilesystemBlobStore } from '@cistern/storage';
import { createTestDatabase, freePort, makeTempDir, removeDir, startDistribution, TEST_REDIS_URL } from '@cistern/testkit';
import { MANIFEST_TYPE, mirrorIntoCistern, pushBenchContent, REPO, TAG } from './content.ts';
import { headLoad, wrk, type WrkResult, type WrkRun } from './wrk.ts';

interface Scenario {
  name: string;
  path: string;
  method: WrkRun['method'];
  connections: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '5' }, connections: { type: 'string', default: '32' } } });
  const seconds = Number(values.seconds);
  const connections = Number(values.connections);
  const scratch = await makeTempDir('bench-serve');
  const testDb = await createTestDatabase();
  const upstream = await startDistribution();
  const db = await openDatabase({ databaseUrl: testDb.url, dataDir: scratch, allowEmbedded: false });
  try {
    const { blobs } = await pushBenchContent(upstream);
    const storage = new FilesystemBlobStore(`${scratch}/storage`);
    await storage.assertWritable();
    const secretKey = randomBytes(32);
    await mirrorIntoCistern(db.prisma, storage, secretKey, upstream);
    const port = await freePort();
    const config = envSchema.parse({ DATABASE_URL: testDb.url, REDIS_URL: TEST_REDIS_URL, DATA_DIR: scratch, REGISTRY_PORT: String(port), LOG_LEVEL: 'warn' });
    const logger = createLogger(config);
    const resources = { config, logger, db, storage, secretKey, redisWatch: createRedisWatch(logger, config.redisUrl), close: async () => undefined };
    const cistern = await startRegistry(resources, port);
    try {
      const scenarios: Scenario[] = [
        { name: 'manifest GET by tag', path: `/v2/${REPO}/manifests/${TAG}`, method: 'GET', connections },
        { name: 'manifest HEAD by tag', path: `/v2/${REPO}/manifests/${TAG}`, method: 'HEAD', connections },
        { name: 'blob GET 64 KiB', path: `/v2/${REPO}/blobs/${blobs['64KiB']}`, method: 'GET', connections },
        { name: 'blob GET 2 MiB', path: `/v2/${REPO}/blobs/${blobs['2MiB']}`, method: 'GET', connections: Math.min(connections, 16) },
        { name: 'blob GET 100 MiB', path: `/v2/${REPO}/blobs/${blobs['100MiB']}`, method: 'GET', connections: 4 },
      ];
      const rows: [Scenario, WrkResult, WrkResult][] = [];
      for (const scenario of scenarios) {
        const spec = (base: string): WrkRun => ({
          url: base + scenario.path,
          method: scenario.method,
          headers: { accept: MANIFEST_TYPE },
          connections: scenario.connections,
          seconds,
        });
        const load = (run: WrkRun) => (run.method === 'HEAD' ? headLoad(run) : wrk(run, scratch));
        // Warm both (page cache, JIT, connection pools) before measuring.
        await load({ ...spec(cistern.url), seconds: 1 });
        await load({ ...spec(upstream.url), seconds: 1 });
        rows.push([scenario, await load(spec(cistern.url)), await load(spec(upstream.url))]);
      }
      print(rows, seconds);
    } finally {
      await cistern.close();
    }
  } finally {
    await db.close();
    await upstream.stop();
    await testDb.drop();
    await removeDir(scratch);
  }
}

function print(rows: [Scenario, WrkResult, WrkResult][], seconds: number): void {
  const f = (n: number, digits = 0) => n.toFixed(digits);
  const header = [
    'scenario',
    'conns',
    'req/s Cistern',
    'req/s Distribution',
    'ratio',
    'MB/s Cistern',
    'MB/s Distribution',
    'ratio',
    'p99 ms Cistern',
    'p99 ms Distribution',
    'errors C/D',
  ];
  console.log(`wrk -t1 (HEAD: head-load.ts, 1 process), ${seconds} s per run, one core left for the server; Node ${process.version}`);
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${header.map(() => '---').join('|')}|`);
  for (const [s, c, d] of rows) {
    const cells = [
      s.name,
      String(s.connections),
      f(c.requestsPerSecond),
      f(d.requestsPerSecond),
      `${f(c.requestsPerSecond / d.requestsPerSecond, 2)}x`,
      f(c.megabytesPerSecond, 1),
      f(d.megabytesPerSecond, 1),
      `${f(c.megabytesPerSecond / d.megabytesPerSecond, 2)}x`,
      f(c.p99Ms, 2),
      f(d.p99Ms, 2),
      `${c.errors}/${d.errors}`,
    ];
    console.log(`| ${cells.join(' | ')} |`);
  }
}

await main();
