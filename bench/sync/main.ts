// bench/sync: Cistern's full sync and no-op resync against `skopeo sync` (the
// peer) and `cp -r` (the disk limit), on the same upstream in one run.
//   npx tsx bench/sync/main.ts [--tags 200] [--big 4] [--big-mib 256] [--runs 3] [--cpu-prof DIR]
// Cistern's syncs are tasks taken by a running worker (worker-sync.ts). Each
// timed run is repeated --runs times, Cistern and skopeo taking turns (first one,
// then the other) so that both see the same machine; the table gives medians,
// and every run is listed.
// --cpu-prof writes a V8 .cpuprofile of each timed worker into DIR when it stops;
// profiling slows the runs it times.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { json, makeTempDir, pushBlob, pushManifest, removeDir, startDistribution, startFaultProxy, type FaultProxy } from '@cistern/testkit';
import { syncThroughWorker } from './worker-sync.ts';

const { values } = parseArgs({
  options: {
    tags: { type: 'string', default: '200' },
    big: { type: 'string', default: '4' },
    'big-mib': { type: 'string', default: '256' },
    runs: { type: 'string', default: '3' },
    'cpu-prof': { type: 'string' },
  },
});
const RUNS = Number(values.runs);
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`--runs must be a whole number ≥ 1, not ${values.runs}`);
const TAGS = Number(values.tags);
const BIG = Number(values.big);
const BIG_BYTES = Number(values['big-mib']) * 1024 * 1024;
const REPO = 'bench/app';
const here = path.dirname(fileURLToPath(import.meta.url));

interface Measured {
  wallS: number;
  cpuS: number;
  peakRssMiB: number;
  requests: Record<string, number>;
}

/**
 * Runs a command under GNU time: wall seconds and peak RSS, plus the upstream
 * requests it made. Asynchronous, because the counting proxy lives in this process.
 */
async function measure(proxy: FaultProxy | undefined, command: string, args: string[]): Promise<Measured> {
  proxy?.reset();
  const child = spawn('/usr/bin/time', ['-f', 'TIME %e %M %U %S', command, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (status !== 0) throw new Error(`${command} failed: ${stderr.slice(-2000)}`);
  const line = stderr.split('\n').find((l) => l.startsWith('TIME ')) ?? 'TIME 0 0 0 0';
  const [, wall, rssKb, user, sys] = line.split(' ');
  return { wallS: Number(wall), cpuS: Number(user) + Number(sys), peakRssMiB: Number(rssKb) / 1024, requests: proxy?.counts() ?? {} };
}

function image(config: Buffer, layers: { digest: string; size: number }[]): Buffer {
  return json({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: '', size: config.length },
    layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...l })),
  });
}

async function fill(upstream: { url: string; authorization(r: string): Promise<string | undefined> }): Promise<number> {
  let bytes = 0;
  const base = [randomBytes(2 * 1024 * 1024), randomBytes(2 * 1024 * 1024)];
  const baseLayers = [];
  for (const b of base) baseLayers.push({ digest: await pushBlob(upstream, REPO, b), size: b.length });
  bytes += base.reduce((n, b) => n + b.length, 0);
  const push = async (tag: string, layers: { digest: string; size: number }[]) => {
    const config = json({ architecture: 'amd64', os: 'linux', tag });
    const configDigest = await pushBlob(upstream, REPO, config);
    const manifest = JSON.parse(image(config, layers).toString()) as { config: { digest: string } };
    manifest.config.digest = configDigest;
    await pushManifest(upstream, REPO, tag, json(manifest), 'application/vnd.oci.image.manifest.v1+json');
    bytes += config.length;
  };
  for (let i = 0; i < TAGS; i++) {
    const own = randomBytes(64 * 1024);
    await push(`v${i}`, [...baseLayers, { digest: await pushBlob(upstream, REPO, own), size: own.length }]);
    bytes += own.length;
  }
  for (let i = 0; i < BIG; i++) {
    const big = randomBytes(BIG_BYTES);
    await push(`big${i}`, [{ digest: await pushBlob(upstream, REPO, big), size: big.length }]);
    bytes += big.length;
  }
  return bytes;
}

/**
 * Writes back what earlier steps left dirty (the fill's gigabyte, the previous
 * run's), so that no timed run pays for another's writeback.
 */
async function flushDirtyPages(): Promise<void> {
  await measure(undefined, 'sync', []);
}

/** The run of median wall time (the upper middle one of an even count). */
function median<T extends { wallS: number }>(list: T[]): T {
  const sorted = [...list].sort((a, b) => a.wallS - b.wallS);
  const middle = sorted[Math.floor(sorted.length / 2)];
  if (middle === undefined) throw new Error('no runs');
  return middle;
}

const withRequests = (m: Measured, requests: Record<string, number>): Measured => ({ ...m, requests });
const manifestGets = (m: Measured) => m.requests['GET manifest'] ?? 0;
const total = (m: Measured) => Object.values(m.requests).reduce((a, b) => a + b, 0);

const upstream = await startDistribution();
const proxy = await startFaultProxy(upstream.url);
const work = await makeTempDir('bench-sync');
try {
  console.log(`filling ${upstream.url} with ${TAGS} small tags and ${BIG} × ${BIG_BYTES / 1024 / 1024} MiB images…`);
  const bytes = await fill(upstream);
  console.log(`upstream holds ${(bytes / 1e9).toFixed(2)} GB of distinct blobs`);
  // Syncs run as in production: tasks taken by a running worker, an esbuild bundle on plain node.
  const workerBundle = path.join(here, 'dist', 'worker.js');
  await measure(undefined, process.execPath, [path.join(here, '../../scripts/bundle.mjs'), path.join(here, '../../apps/worker/src/main.ts'), workerBundle]);
  // Timed runs talk to Distribution directly; requests are counted by second, untimed
  // runs through the counting proxy (skopeo's too).
  const nodeArgs = values['cpu-prof'] === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${path.resolve(values['cpu-prof'])}`];
  const skopeoArgs = (host: string, dest: string) => [
    'sync',
    '--scoped',
    '--src',
    'docker',
    '--dest',
    'dir',
    '--src-tls-verify=false',
    `${host}/${REPO}`,
    path.join(work, dest),
  ];
  const runs = { full: [] as Measured[], noop: [] as Measured[], skopeo: [] as Measured[], cp: [] as Measured[], startS: [] as number[] };
  for (let run = 1; run <= RUNS; run++) {
    const cistern = async () => {
      await flushDirtyPages();
      const timed = await syncThroughWorker({ workerBundle, upstreamUrl: upstream.url, repo: REPO, nodeArgs });
      runs.full.push(timed.full);
      runs.noop.push(timed.noop);
      runs.startS.push(timed.startS);
    };
    const peer = async () => {
      await flushDirtyPages();
      runs.skopeo.push(await measure(undefined, 'skopeo', skopeoArgs(upstream.host, 'skopeo')));
      await removeDir(path.join(work, 'skopeo'));
    };
    // Neither always runs while the other's writes are still being flushed.
    if (run % 2 === 1) await cistern().then(peer);
    else await peer().then(cistern);
    await flushDirtyPages();
    runs.cp.push(await measure(undefined, 'cp', ['-r', upstream.storageDir, path.join(work, 'cp')]));
    // Every run writes to an empty destination, as the first did.
    await removeDir(path.join(work, 'cp'));
    console.log(`run ${run}/${RUNS}: Cistern ${runs.full.at(-1)?.wallS.toFixed(2)} s, skopeo ${runs.skopeo.at(-1)?.wallS.toFixed(2)} s`);
  }
  // Requests are counted by one more, untimed, run of each through the counting proxy.
  const counted = await syncThroughWorker({ workerBundle, upstreamUrl: proxy.url, repo: REPO, counter: proxy });
  const skopeoCounted = await measure(proxy, 'skopeo', skopeoArgs(proxy.host, 'skopeo-counted'));
  const full = withRequests(median(runs.full), counted.full.requests);
  const noop = withRequests(median(runs.noop), counted.noop.requests);
  const skopeo = withRequests(median(runs.skopeo), skopeoCounted.requests);
  const cp = median(runs.cp);

  const rows = [
    ['Cistern full sync (worker task)', full],
    ['Cistern no-op resync (worker task)', noop],
    ['skopeo sync (peer)', skopeo],
    ['cp -r of upstream storage (disk limit)', cp],
  ] as const;
  console.log('\n| run | wall s | CPU s | upstream requests | manifest GETs | peak RSS MiB |');
  console.log('|---|---|---|---|---|---|');
  for (const [name, m] of rows) {
    console.log(
      `| ${name} | ${m.wallS.toFixed(2)} | ${m.cpuS.toFixed(2)} | ${m === cp ? '—' : total(m)} | ${m === cp ? '—' : manifestGets(m)} | ${m.peakRssMiB.toFixed(0)} |`,
    );
  }
  const walls = (list: Measured[]) => list.map((m) => m.wallS.toFixed(2)).join(', ');
  console.log(`\n(medians of ${RUNS} runs; wall s of every run: Cistern ${walls(runs.full)}; skopeo ${walls(runs.skopeo)}; cp -r ${walls(runs.cp)})`);
  const pairs = runs.full.map((m, i) => (m.wallS / (runs.skopeo[i]?.wallS ?? Infinity)).toFixed(2));
  console.log(`\nfull sync / skopeo wall time: ${(full.wallS / skopeo.wallS).toFixed(2)}× of medians (target ≤ 0.30×); run by run: ${pairs.join(', ')}`);
  console.log(`full sync / cp -r wall time: ${(full.wallS / cp.wallS).toFixed(2)}×`);
  console.log(`no-op resync: ${noop.wallS.toFixed(2)} s (target ≤ 2 s), ${manifestGets(noop)} manifest GETs (target 0)`);
  console.log(
    `worker peak RSS, highest of all runs: ${Math.max(...runs.full.map((m) => m.peakRssMiB), ...runs.noop.map((m) => m.peakRssMiB)).toFixed(0)} MiB (target ≤ 300 MiB)`,
  );
  console.log(`worker start-up to ready (once per worker, not part of a sync): ${median(runs.startS.map((wallS) => ({ wallS }))).wallS.toFixed(2)} s`);
  console.log(`sync versions: ${JSON.stringify(counted.full.createdResources)} / ${JSON.stringify(counted.noop.createdResources)}`);
} finally {
  await proxy.stop();
  await upstream.stop();
  await removeDir(work);
}
