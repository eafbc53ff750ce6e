/**
 * Streams a blob from a local CNCF Distribution through @cistern/upstream into
 * a sink that hashes and discards, and fetches the same blob with curl (the
 * peer) in the same run; prints throughput, the client's peak RSS and ratios.
 * The client runs in a child process so its peak RSS is its own.
 *
 *   npx tsx bench/upstream-blob/main.ts [--size 1GiB] [--runs 3]
 */
import { execFile, fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { startDistribution } from '@cistern/testkit';
import { UpstreamClient } from '@cistern/upstream';

const run = promisify(execFile);
const MiB = 1024 ** 2;
const REPO = 'bench/blob';

interface Measured {
  seconds: number;
  bytes: number;
  peakRssMiB?: number;
  /** Peak RSS before the download started: node, tsx and the modules. */
  startRssMiB?: number;
}

/** `size` bytes of a repeating 1 MiB pseudo-random pattern; only the pattern is in memory. */
function generated(size: number): Readable {
  const pattern = Buffer.alloc(MiB);
  let x = 0x2545f491;
  for (let i = 0; i < pattern.length; i += 1) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    pattern[i] = x & 0xff;
  }
  function* chunks(): Generator<Buffer> {
    for (let sent = 0; sent < size; sent += pattern.length) yield pattern.subarray(0, Math.min(pattern.length, size - sent));
  }
  return Readable.from(chunks(), { objectMode: false });
}

async function pushLargeBlob(url: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(
    generated(size),
    new Writable({
      write: (chunk: Buffer, _e, done) => {
        hash.update(chunk);
        done();
      },
    }),
  );
  const digest = `sha256:${hash.digest('hex')}`;
  const start = await fetch(`${url}/v2/${REPO}/blobs/uploads/`, { method: 'POST' });
  const location = new URL(start.headers.get('location') ?? '', url);
  const patch = await fetch(location, {
    method: 'PATCH',
    headers: { 'content-type': 'application/octet-stream' },
    body: Readable.toWeb(generated(size)) as ReadableStream<Uint8Array>,
    duplex: 'half',
  } as RequestInit);
  const done = new URL(patch.headers.get('location') ?? '', url);
  done.searchParams.set('digest', digest);
  const put = await fetch(done, { method: 'PUT' });
  if (put.status !== 201) throw new Error(`blob upload failed: HTTP ${put.status} ${await put.text()}`);
  return digest;
}

/**
 * This process's peak RSS. Not `resourceUsage().maxRSS`: Linux carries
 * `ru_maxrss` over fork and exec, so a child would report its parent's peak.
 * `VmHWM` belongs to the process's own address space.
 */
function peakRssKiB(): number {
  const status = readFileSync('/proc/self/status', 'utf8');
  return Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? process.resourceUsage().maxRSS);
}

/** The measured side: runs in a child process. */
async function child(url: string, digest: string): Promise<void> {
  const client = new UpstreamClient({ url, upstreamName: REPO });
  const hash = createHash('sha256');
  let bytes = 0;
  const sink = new Writable({
    highWaterMark: MiB,
    write(chunk: Buffer, _e, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done();
    },
  });
  const startRssMiB = peakRssKiB() / 1024;
  const started = performance.now();
  await client.getBlob(digest, sink);
  const seconds = (performance.now() - started) / 1000;
  if (`sha256:${hash.digest('hex')}` !== digest) throw new Error('the sink saw other bytes');
  const result: Measured = { seconds, bytes, peakRssMiB: peakRssKiB() / 1024, startRssMiB };
  process.send?.(result);
}

async function measureClient(url: string, digest: string): Promise<Measured> {
  const worker = fork(fileURLToPath(import.meta.url), ['--child', url, digest], { stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    worker.once('message', (m) => resolve(m as Measured));
    worker.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`client run exited ${code}`))));
  });
}

async function measureCurl(url: string, digest: string, hashing: boolean): Promise<Measured> {
  const blobUrl = `${url}/v2/${REPO}/blobs/${digest}`;
  const started = performance.now();
  const command = hashing ? `curl -sf ${blobUrl} | sha256sum` : `curl -sf -o /dev/null ${blobUrl}`;
  const { stdout } = await run('sh', ['-c', command]);
  if (hashing && !digest.endsWith(stdout.split(' ')[0] ?? '-')) throw new Error('curl saw other bytes');
  return { seconds: (performance.now() - started) / 1000, bytes: 0 };
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { size: { type: 'string', default: '1GiB' }, runs: { type: 'string', default: '3' }, child: { type: 'boolean' } },
    allowPositionals: true,
  });
  if (values.child) return child(positionals[0] ?? '', positionals[1] ?? '');
  const match = /^(\d+)(MiB|GiB)$/.exec(values.size);
  if (!match) throw new Error('--size takes e.g. 1GiB or 256MiB');
  const size = Number(match[1]) * (match[2] === 'GiB' ? 1024 : 1) * MiB;
  const registry = await startDistribution();
  try {
    const digest = await pushLargeBlob(registry.url, size);
    const client: Measured[] = [];
    const curl: Measured[] = [];
    const curlHash: Measured[] = [];
    for (let i = 0; i < Number(values.runs); i += 1) {
      client.push(await measureClient(registry.url, digest));
      curl.push(await measureCurl(registry.url, digest, false));
      curlHash.push(await measureCurl(registry.url, digest, true));
    }
    const rate = (runs: Measured[]): number => size / MiB / median(runs.map((r) => r.seconds));
    const ours = rate(client);
    console.log(`blob ${values.size} from Distribution 2.8.2 on 127.0.0.1, median of ${values.runs} runs`);
    console.log(
      `  @cistern/upstream getBlob -> hashing sink: ${ours.toFixed(0)} MiB/s, peak RSS ${median(client.map((r) => r.peakRssMiB ?? 0)).toFixed(0)} MiB (max ${Math.max(...client.map((r) => r.peakRssMiB ?? 0)).toFixed(0)}; ${median(client.map((r) => r.startRssMiB ?? 0)).toFixed(0)} MiB before the download)`,
    );
    console.log(`  curl -o /dev/null (peer):                  ${rate(curl).toFixed(0)} MiB/s   ratio ${(ours / rate(curl)).toFixed(2)}`);
    console.log(`  curl | sha256sum (hashing peer):           ${rate(curlHash).toFixed(0)} MiB/s   ratio ${(ours / rate(curlHash)).toFixed(2)}`);
  } finally {
    await registry.stop();
  }
}

await main();
