/**
 * Streams a generated blob into FilesystemBlobStore and, on the same bytes in
 * the same run, into named peers, printing throughput, peak RSS and ratios.
 *
 *   npx tsx bench/storage-write/main.ts [--size 1GiB] [--chunk 64KiB] [--runs 3] [--dir /tmp] [--verbose]
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs, promisify } from 'node:util';
import { FilesystemBlobStore } from '@cistern/storage';

const units: Record<string, number> = { '': 1, b: 1, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

function parseSize(text: string): number {
  const match = /^(\d+)\s*([a-z]*)$/i.exec(text.trim());
  const unit = units[match?.[2]?.toLowerCase() ?? 'x'];
  if (!match?.[1] || unit === undefined) throw new Error(`cannot read size ${JSON.stringify(text)} (e.g. 1GiB, 512MiB)`);
  return Number(match[1]) * unit;
}

/** `size` bytes of a repeating 1 MiB pseudo-random pattern; only the pattern is held in memory. */
function generated(size: number, chunk: number): Readable {
  const pattern = Buffer.alloc(1024 ** 2);
  let x = 0x9e3779b9;
  for (let i = 0; i < pattern.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    pattern[i] = x & 0xff;
  }
  function* bytes(): Generator<Buffer> {
    for (let sent = 0; sent < size;) {
      const at = sent % pattern.length;
      const part = pattern.subarray(at, Math.min(at + chunk, pattern.length, at + size - sent));
      sent += part.length;
      yield part;
    }
  }
  return Readable.from(bytes(), { objectMode: false, highWaterMark: chunk });
}

/** Resets the kernel's peak-RSS mark (VmHWM) so each phase reports its own peak. */
function resetPeakRss(): void {
  writeFileSync('/proc/self/clear_refs', '5');
}

function peakRssBytes(): number {
  const line = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return Number(line?.[1]) * 1024;
}

interface Phase {
  readonly name: string;
  readonly seconds: number;
  readonly peakRss: number | undefined;
}

async function phase(name: string, body: () => Promise<unknown>, inProcess = true): Promise<Phase> {
  resetPeakRss();
  const started = process.hrtime.bigint();
  await body();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { name, seconds, peakRss: inProcess ? peakRssBytes() : undefined };
}

function sha256Tee(): { transform: Transform; digest: () => string } {
  const hash = createHash('sha256');
  const transform = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  return { transform, digest: () => `sha256:${hash.digest('hex')}` };
}

interface Peer {
  readonly name: string;
  readonly inProcess: boolean;
  readonly run: () => Promise<unknown>;
}

function peers(size: number, chunk: number, dir: string, digest: string, store: FilesystemBlobStore): Peer[] {
  const storedPath = join(store.root, 'blobs', 'sha256', digest.slice(7, 9), digest.slice(7));
  const floor = (flush: boolean): Peer => ({
    name: `fs.createWriteStream + sha256 pipe${flush ? ' + fsync' : ' (floor)'}`,
    inProcess: true,
    run: async () => {
      const tee = sha256Tee();
      const path = join(dir, 'floor');
      await pipeline(generated(size, chunk), tee.transform, createWriteStream(path, { flush }));
      if (tee.digest() !== digest) throw new Error('floor saw different bytes');
    },
  });
  return [
    {
      name: 'FilesystemBlobStore.put (hash, fsync, rename)',
      inProcess: true,
      run: async () => {
        await store.delete(digest).catch(() => undefined);
        const result = await store.put(digest, generated(size, chunk), size);
        if (!result.created || result.size !== size) throw new Error(`unexpected result ${JSON.stringify(result)}`);
      },
    },
    floor(false),
    floor(true),
    { name: 'cp of the stored file (child process)', inProcess: false, run: () => run('cp', [storedPath, join(dir, 'cp')]) },
  ];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      size: { type: 'string', default: '1GiB' },
      chunk: { type: 'string', default: '64KiB' },
      runs: { type: 'string', default: '3' },
      verbose: { type: 'boolean', default: false },
      dir: { type: 'string' },
    },
  });
  const size = parseSize(values.size);
  const chunk = parseSize(values.chunk);
  const runs = Number(values.runs);
  const dir = await mkdtemp(join(values.dir ?? tmpdir(), 'cistern-bench-'));
  const cleanUp = (): void => rmSync(dir, { recursive: true, force: true });
  process.once('SIGINT', () => {
    cleanUp();
    process.exit(130);
  });
  try {
    console.log(`storage-write: ${size} bytes (${(size / 1024 ** 3).toFixed(2)} GiB), ${chunk}-byte chunks, ${runs} runs, under ${dir}`);
    let digest = '';
    const hashOnly = await phase('sha256 only, no disk', async () => {
      const tee = sha256Tee();
      await pipeline(generated(size, chunk), tee.transform, new Writable({ write: (_c, _e, cb) => cb() }));
      digest = tee.digest();
    });
    const store = new FilesystemBlobStore(join(dir, 'store'));
    await store.assertWritable();
    await store.put(digest, generated(size, chunk), size); // cp reads it in every run
    const contenders = peers(size, chunk, dir, digest, store);
    const results = new Map<string, Phase[]>(contenders.map((c) => [c.name, []]));
    for (let r = 0; r < runs; r++) {
      // Rotate the order so that no one always follows the same neighbour.
      for (const c of [...contenders.slice(r % contenders.length), ...contenders.slice(0, r % contenders.length)]) {
        await run('sync', []); // start from clean page cache state, untimed
        const measured = await phase(c.name, c.run, c.inProcess);
        if (values.verbose) console.log(`  run ${r + 1}: ${c.name} ${measured.seconds.toFixed(2)} s`);
        results.get(c.name)?.push(measured);
        rmSync(join(dir, 'floor'), { force: true });
        rmSync(join(dir, 'cp'), { force: true });
      }
    }
    report(size, [hashOnly, ...contenders.map((c) => median(results.get(c.name) ?? []))]);
  } finally {
    cleanUp();
  }
}

const run = promisify(execFile);

function median(phases: readonly Phase[]): Phase {
  const sorted = [...phases].sort((a, b) => a.seconds - b.seconds);
  const middle = sorted[Math.floor(sorted.length / 2)];
  if (middle === undefined) throw new Error('no runs');
  const peaks = phases.map((p) => p.peakRss ?? 0);
  return { ...middle, peakRss: middle.peakRss === undefined ? undefined : Math.max(...peaks) };
}

function report(size: number, phases: readonly Phase[]): void {
  const store = phases.find((p) => p.name.startsWith('FilesystemBlobStore'));
  if (store === undefined) return;
  const mbps = (p: Phase): number => size / 1e6 / p.seconds;
  console.log(`\n${'phase'.padEnd(48)}${'seconds'.padStart(9)}${'MB/s'.padStart(9)}${'peak RSS'.padStart(11)}  store/peer`);
  for (const p of phases) {
    const rss = p.peakRss === undefined ? 'n/a' : `${(p.peakRss / 1024 ** 2).toFixed(0)} MiB`;
    const ratio = p === store ? '' : `${(mbps(store) / mbps(p)).toFixed(2)}x`;
    console.log(`${p.name.padEnd(48)}${p.seconds.toFixed(2).padStart(9)}${mbps(p).toFixed(0).padStart(9)}${rss.padStart(11)}  ${ratio}`);
  }
  console.log('\nMedian seconds over the runs; MB = 10^6 bytes; store/peer = store throughput / peer throughput (1.00x = as fast).');
  console.log('Peak RSS: the highest kernel VmHWM of this whole Node process over the runs, reset before each phase.');
}

await main();
