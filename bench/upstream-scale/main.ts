// bench/upstream-scale: a repository of a million tags listed in ONE body (as
// Distribution answers), every tag on one small manifest, mirrored by a real
// worker process (API and worker apart, MALLOC_ARENA_MAX=2 as `npm start`).
//   npm run bench:scale -- [--tags 1000000] [--concurrency 10] [--cancel-after-s 20] [--runs 3]
// Prints the full sync's time, the worker's peak RSS (VmHWM) and open
// descriptors, whether the version holds every tag; then cancels syncs of the
// same upstream in the middle and prints how long each took to `canceled`.
// Target (issue 13): peak RSS ≤ 600 MiB through the sync that writes its version; cancel ≤ 2 s.
import { parseArgs } from 'node:util';
import {
  createTestDatabase,
  createTestRedisPrefix,
  json,
  makeTempDir,
  OCI_CONFIG,
  OCI_MANIFEST,
  removeDir,
  startSyntheticUpstream,
  TEST_REDIS_URL,
} from '@cistern/testkit';
import pg from 'pg';
import { sampleProcess, startApiAndWorker, type SeparateCistern } from '../../test/processes.ts';

const { values } = parseArgs({
  options: {
    tags: { type: 'string', default: '1000000' },
    concurrency: { type: 'string', default: '10' },
    'cancel-after-s': { type: 'string', default: '20' },
    runs: { type: 'string', default: '3' },
  },
});
const TAGS = Number(values.tags);
const CONCURRENCY = Number(values.concurrency);
const CANCEL_AFTER_MS = Number(values['cancel-after-s']) * 1000;
const RUNS = Number(values.runs);
const REPO = 'bench/many';

async function openTags(databaseUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM "RepositoryTag" WHERE "versionRemoved" IS NULL');
    return rows[0]?.n ?? 0;
  } finally {
    await client.end();
  }
}

const median = (list: number[]): number => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)] ?? NaN;

const upstream = await startSyntheticUpstream();
const config = json({ architecture: 'amd64', os: 'linux' });
const configDigest = upstream.addBlob(REPO, config);
// Tags of up to 40 characters: a 40 MB body for a million.
const tags = Array.from({ length: TAGS }, (_, i) => `release-candidate-build-${String(i).padStart(16, '0')}`);
upstream.addManifest(
  REPO,
  json({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: OCI_CONFIG, digest: configDigest, size: config.length }, layers: [] }),
  OCI_MANIFEST,
  tags,
);
// One body, built once (no paging): Distribution's answer.
const body = Buffer.from(JSON.stringify({ name: REPO, tags }));
upstream.intercept((req, res) => {
  if (!req.url?.startsWith(`/v2/${REPO}/tags/list`)) return false;
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length }).end(body);
  return true;
});
console.log(`upstream: ${TAGS} tags in one ${(body.length / 1e6).toFixed(1)} MB body`);

const db = await createTestDatabase();
const dataDir = await makeTempDir('bench-scale');
const redis = createTestRedisPrefix();
let cistern: SeparateCistern | undefined;
try {
  cistern = await startApiAndWorker({ databaseUrl: db.url, redisUrl: TEST_REDIS_URL, redisPrefix: redis.prefix, dataDir });
  const pid = cistern.worker.child.pid ?? 0;
  const done = (t: { state: string }) => ['completed', 'failed', 'canceled'].includes(t.state);

  const readings = sampleProcess(pid, 100);
  const t0 = performance.now();
  const id = await cistern.sync({ url: upstream.url, upstreamName: REPO, downloadConcurrency: CONCURRENCY });
  const task = await cistern.waitTask(id, done, 3_600_000, 500);
  const syncS = (performance.now() - t0) / 1000;
  await readings.stop();
  const written = await openTags(db.url);
  console.log(
    `\nfull mirror sync: ${task.state} in ${syncS.toFixed(1)} s, created ${JSON.stringify(task.createdResources)}; error ${JSON.stringify(task.error)}`,
  );
  if (task.state !== 'completed') console.log(`worker output:\n${cistern.worker.output().slice(-3000)}`);
  console.log(`version holds ${written} of ${TAGS} tags`);
  console.log(
    `worker peak RSS (VmHWM) ${readings.hwmMiB.toFixed(0)} MiB (sampled VmRSS peak ${readings.peakRssMiB.toFixed(0)} MiB; target ≤ 600), peak open descriptors ${readings.peakFds}`,
  );

  const latencies: number[] = [];
  for (let run = 1; run <= RUNS; run++) {
    const cancelId = await cistern.sync({ url: upstream.url, upstreamName: REPO, downloadConcurrency: CONCURRENCY });
    await cistern.waitTask(cancelId, (t) => t.state === 'running', 60_000, 50);
    await new Promise((r) => setTimeout(r, CANCEL_AFTER_MS));
    const t1 = performance.now();
    await cistern.call('POST', `/tasks/${cancelId}/cancel`);
    const canceled = await cistern.waitTask(cancelId, done, 120_000, 20);
    const ms = performance.now() - t1;
    latencies.push(ms);
    const listed = canceled.progressReports.find((r) => r.code === 'sync.tags');
    console.log(`cancel ${run}/${RUNS} after ${CANCEL_AFTER_MS / 1000} s (${listed?.done ?? 0} tags listed): ${canceled.state} in ${ms.toFixed(0)} ms`);
  }
  console.log(`cancel mid-sync: median ${median(latencies).toFixed(0)} ms of ${latencies.map((l) => l.toFixed(0)).join(', ')} (target ≤ 2000)`);
} finally {
  await cistern?.stop();
  await upstream.stop();
  await redis.cleanup();
  await db.drop();
  await removeDir(dataDir);
}
