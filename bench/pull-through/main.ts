// bench/pull-through: one multi-layer image pulled with skopeo (a) straight from
// an upstream CNCF Distribution 2.8.2, (b) first and (c) second time through a
// Cistern pull-through distribution of it, (d) first and second time through
// Distribution 2.8.2 as a proxy of the same upstream (`proxy: {remoteurl}`).
//   npm run bench:pull-through -- [--size-mib 300] [--layers 5] [--runs 3]
// Every run starts the caches empty: a Cistern registry process over a new
// database, Redis prefix and data dir, a new Distribution proxy; Cistern and the
// proxy take turns going first. Each pull is `skopeo copy` into an empty `dir:`
// after a `sync`. Before its timed pulls each cache pulls a small other image
// once, warm as a running cache is (that time is printed apart). The table
// gives medians; a case that fails (a registry without pull-through answers
// NAME_UNKNOWN) is reported with the registry's answer, the others still run,
// and the exit status is 1. A last, untimed pass through a counting proxy gives
// what each pull through a cache asked the upstream.
// Issue 18's targets: (b) ≤ 1.2× (a) time; (c) ≥ 1.0× (d) second-pull
// throughput; (b) ≤ 1.0× (d) first-pull time.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeTempDir, pushImage, removeDir, startDistribution, startFaultProxy, type FaultProxy } from '@cistern/testkit';
import { CACHE_BASE_PATH, startPullThroughCistern } from './cistern.ts';
import { pushLargeImage } from './image.ts';
import { timedPull, type PullOutcome } from './pull.ts';

const { values } = parseArgs({
  options: {
    'size-mib': { type: 'string', default: '300' },
    layers: { type: 'string', default: '5' },
    runs: { type: 'string', default: '3' },
  },
});
const wholeNumber = (flag: string, value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${flag} must be a whole number ≥ 1, not ${value}`);
  return n;
};
const SIZE_MIB = wholeNumber('size-mib', values['size-mib']);
const LAYERS = wholeNumber('layers', values.layers);
const RUNS = wholeNumber('runs', values.runs);
const REPO = 'bench/big';
/** A small image each cache serves once before the timed pulls. */
const WARM_REPO = 'bench/warm';
const TAG = 'latest';
const MiB = 1024 ** 2;

const CASES = {
  a: '(a) upstream Distribution, direct',
  b: '(b) Cistern pull-through, first pull',
  c: '(c) Cistern pull-through, second pull',
  dFirst: '(d) Distribution proxy, first pull',
  dSecond: '(d) Distribution proxy, second pull',
} as const;
type Case = keyof typeof CASES;

const seconds: Record<Case, number[]> = { a: [], b: [], c: [], dFirst: [], dSecond: [] };
/** Why a case failed, the first time it did. */
const failures: Partial<Record<Case, string>> = {};
/** Seconds of each just-started cache's warm-up pull (of WARM_REPO, untimed in the cases). */
const warmSeconds = { cistern: [] as number[], distribution: [] as number[] };
/** What each pull through a cache asked the upstream, from the counted pass. */
const upstreamRequests: Partial<Record<Case, Record<string, number>>> = {};
/** The seconds of the current run's pulls. */
let thisRun: Partial<Record<Case, number>> = {};

function record(which: Case, outcome: PullOutcome): void {
  if (outcome.ok) {
    seconds[which].push(outcome.seconds);
    thisRun[which] = outcome.seconds;
    return;
  }
  failures[which] ??= outcome.answer;
  console.log(`${CASES[which]} FAILED: ${outcome.answer}\n  skopeo: ${outcome.skopeo}`);
  const second = Object.values(caches).find((cache) => cache.first === which)?.second;
  if (second !== undefined) failures[second] ??= 'not run: the first pull failed';
}

/** A cache under test, started empty in front of an upstream URL. */
interface Cache {
  host: string;
  /** The repository a pull through it names. */
  repository: string;
  /** What it logged, for a failure message. */
  logged(): string;
  stop(): Promise<void>;
}

const caches: Record<'cistern' | 'distribution', { first: Case; second: Case; start(upstreamUrl: string): Promise<Cache> }> = {
  cistern: {
    first: 'b',
    second: 'c',
    start: async (upstreamUrl) => {
      const cistern = await startPullThroughCistern(upstreamUrl);
      return { host: cistern.host, repository: `${CACHE_BASE_PATH}/${REPO}`, logged: cistern.output, stop: cistern.stop };
    },
  },
  distribution: {
    first: 'dFirst',
    second: 'dSecond',
    start: async (upstreamUrl) => {
      const proxy = await startDistribution({ proxyOf: upstreamUrl });
      return { host: proxy.host, repository: REPO, logged: () => '', stop: () => proxy.stop() };
    },
  },
};

/**
 * Pulls twice through a new cache of `upstreamUrl`, the second only when the
 * first succeeded; each outcome goes to `seen` with the upstream requests
 * `counter` saw during it, when given.
 */
async function pullTwice(
  kind: keyof typeof caches,
  upstreamUrl: string,
  destination: string,
  seen: (which: Case, outcome: PullOutcome, requests: Record<string, number>) => void,
  counter?: FaultProxy,
): Promise<void> {
  const { first, second, start } = caches[kind];
  const cache = await start(upstreamUrl);
  try {
    // Warm (JIT, connection pools, the upstream connection) on another image, as a running cache is.
    const warm = await timedPull(cache.host, cache.repository.replace(REPO, WARM_REPO), TAG, destination);
    if (warm.ok && counter === undefined) warmSeconds[kind].push(warm.seconds);
    for (const which of [first, second]) {
      counter?.reset();
      const outcome = await timedPull(cache.host, cache.repository, TAG, destination);
      seen(which, outcome, counter?.counts() ?? {});
      if (outcome.ok) continue;
      const logged = cache.logged().trim();
      if (logged !== '') console.log(`${kind} logged:\n${logged.split('\n').slice(-20).join('\n')}`);
      return;
    }
  } finally {
    await cache.stop();
  }
}

const median = (list: number[]): number | undefined => {
  const sorted = [...list].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length === 0 ? undefined : sorted.length % 2 === 1 ? sorted[middle] : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};

function print(bytes: number): void {
  const medianOf = (which: Case) => median(seconds[which]);
  const throughput = (s: number | undefined) => (s === undefined ? undefined : bytes / MiB / s);
  console.log(`\nimage: ${(bytes / MiB).toFixed(1)} MiB, ${LAYERS} random layers; skopeo copy to dir:, ${RUNS} run(s), medians; Node ${process.version}`);
  console.log('| case | seconds | MiB/s | upstream requests (counted pass) | seconds of every run |');
  console.log('|---|---|---|---|---|');
  for (const which of Object.keys(CASES) as Case[]) {
    const s = medianOf(which);
    const requests = upstreamRequests[which];
    const asked =
      requests === undefined
        ? '—'
        : Object.entries(requests)
            .map(([request, n]) => `${request} ${n}`)
            .join(', ') || 'none';
    const cells = [
      CASES[which],
      s?.toFixed(2) ?? '—',
      throughput(s)?.toFixed(1) ?? '—',
      asked,
      [seconds[which].map((x) => x.toFixed(2)).join(', '), failures[which] === undefined ? '' : `FAILED: ${failures[which]}`].join(' ').trim(),
    ];
    console.log(`| ${cells.join(' | ')} |`);
  }
  const targets: { name: string; value: number | undefined; pass: (v: number) => boolean; limit: string }[] = [
    { name: '(b) time / (a) time', value: ratio(medianOf('b'), medianOf('a')), pass: (v) => v <= 1.2, limit: '≤ 1.2' },
    {
      name: '(c) MiB/s / (d) second-pull MiB/s',
      value: ratio(throughput(medianOf('c')), throughput(medianOf('dSecond'))),
      pass: (v) => v >= 1.0,
      limit: '≥ 1.0',
    },
    { name: '(b) time / (d) first-pull time', value: ratio(medianOf('b'), medianOf('dFirst')), pass: (v) => v <= 1.0, limit: '≤ 1.0' },
  ];
  const warmed = (kind: keyof typeof warmSeconds) => median(warmSeconds[kind])?.toFixed(2) ?? '—';
  console.log(
    `(before its timed pulls each cache, just started, pulled a 1 MiB image: Cistern ${warmed('cistern')} s, Distribution ${warmed('distribution')} s)`,
  );
  console.log('\n| target | measured | limit | result |');
  console.log('|---|---|---|---|');
  for (const t of targets) {
    const result = t.value === undefined ? 'n/a (a case failed)' : t.pass(t.value) ? 'PASS' : 'FAIL';
    console.log(`| ${t.name} | ${t.value === undefined ? '—' : `${t.value.toFixed(2)}×`} | ${t.limit} | ${result} |`);
  }
}

function ratio(x: number | undefined, y: number | undefined): number | undefined {
  return x === undefined || y === undefined ? undefined : x / y;
}

const upstream = await startDistribution();
const work = await makeTempDir('bench-pull-through');
try {
  console.log(`pushing ${SIZE_MIB} MiB in ${LAYERS} layers to ${upstream.url}/${REPO}:${TAG}…`);
  const bytes = await pushLargeImage(upstream, REPO, TAG, SIZE_MIB, LAYERS);
  await pushImage(upstream, WARM_REPO, TAG, { layers: [randomBytes(MiB)] });
  const destination = join(work, 'pulled');
  for (let run = 1; run <= RUNS; run++) {
    thisRun = {};
    record('a', await timedPull(upstream.host, REPO, TAG, destination));
    // Neither cache always pulls right after the other's writes.
    const order = run % 2 === 1 ? (['cistern', 'distribution'] as const) : (['distribution', 'cistern'] as const);
    for (const kind of order) await pullTwice(kind, upstream.url, destination, record);
    const pulls = (Object.keys(CASES) as Case[]).map((which) => `${which} ${thisRun[which]?.toFixed(2) ?? '—'}`);
    console.log(`run ${run}/${RUNS}: ${pulls.join(', ')} s`);
  }
  // One more, untimed, pass through a counting proxy: what each pull through a cache asks the upstream.
  const counter = await startFaultProxy(upstream.url);
  try {
    for (const kind of ['cistern', 'distribution'] as const) {
      if (failures[caches[kind].first] !== undefined) continue;
      const counted = (which: Case, outcome: PullOutcome, requests: Record<string, number>) => {
        if (outcome.ok) upstreamRequests[which] = requests;
      };
      await pullTwice(kind, counter.url, destination, counted, counter);
    }
  } finally {
    await counter.stop();
  }
  print(bytes);
  if (Object.keys(failures).length > 0) process.exitCode = 1;
} finally {
  await upstream.stop();
  await removeDir(work);
}
