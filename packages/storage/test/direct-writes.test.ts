import { spawn } from 'node:child_process';
import { constants, readFileSync } from 'node:fs';
import { mkdtemp, open, readdir, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { inSlab, returnBuffer, takeAlignedBuffer, takeBuffer } from '../src/buffer-pool.ts';
import { DirectWrites } from '../src/direct-io.ts';
import { FilesystemBlobStore } from '../src/index.ts';
import { chunks, digestOf, randomBytes, readContent, useStore } from './helpers.ts';

const MiB = 1 << 20;

/** Whether this process's descriptor `fd` was opened with O_DIRECT. */
function isDirect(fd: number | string): boolean {
  const flags = Number.parseInt(/^flags:\s+([0-7]+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1] ?? '', 8);
  return (flags & constants.O_DIRECT) !== 0;
}

/**
 * Stores `bytes` with their size announced, and answers, for each temporary
 * file open once the first bytes were taken, whether it was opened O_DIRECT.
 */
async function directOpensWhileStoring(store: FilesystemBlobStore, bytes: Buffer): Promise<boolean[]> {
  const { stream, done } = store.createWriteStream(digestOf(bytes), bytes.length);
  await written(stream, bytes.subarray(0, 1000));
  const tmp = join(store.root, 'tmp');
  const opens: boolean[] = [];
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
    if (target.startsWith(`${tmp}/`)) opens.push(isDirect(fd));
  }
  stream.end(bytes.subarray(1000));
  await done;
  return opens;
}

/** Writes `chunk` and waits until the stream has taken it. */
function written(stream: Writable, chunk: Buffer): Promise<void> {
  return new Promise<void>((resolve, reject) => stream.write(chunk, (error) => (error ? reject(error) : resolve())));
}

/** Takes every aligned buffer the pool can give, and how many there were. */
function drainAligned(): { held: Buffer[]; count: number } {
  const held: Buffer[] = [];
  for (;;) {
    const buffer = takeAlignedBuffer();
    held.push(buffer);
    if (!inSlab(buffer)) return { held, count: held.length - 1 };
  }
}

function giveBack(buffers: Buffer[]): void {
  for (const buffer of buffers) returnBuffer(buffer);
}

describe('large blobs are written with O_DIRECT', () => {
  const ctx = useStore();
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it.each([
    ['exactly one buffer', MiB],
    ['one byte past a buffer', MiB + 1],
    ['a tail that is not a whole block', 3 * MiB - 7],
    ['whole buffers', 4 * MiB],
  ])('stores %s (%i bytes) byte-exact', async (_name, size) => {
    const bytes = randomBytes(size, size);
    const digest = digestOf(bytes);

    expect(await ctx.store.put(digest, chunks(bytes, { size: 100_003 }), size)).toEqual({ digest, size, created: true });

    expect((await readContent(await ctx.store.open(digest))).equals(bytes)).toBe(true);
    expect(await ctx.store.temporaryUsage()).toEqual({ files: 0, bytes: 0 });
  });

  it('opens the temporary file of a blob expected to fill a buffer with O_DIRECT, unless told not to, and a smaller one without', async () => {
    const large = await directOpensWhileStoring(ctx.store, randomBytes(2 * MiB + 3, 3));
    const small = await directOpensWhileStoring(ctx.store, randomBytes(MiB - 1, 3));
    const turnedOff = await directOpensWhileStoring(new FilesystemBlobStore(ctx.store.root, { directIo: false }), randomBytes(2 * MiB + 4, 3));

    expect(large).toEqual([true]);
    expect(small).toEqual([false]);
    expect(turnedOff).toEqual([false]);
  });

  it('mixes direct batches with buffered ones when the aligned pool runs short, and the blob is still exact', async () => {
    const { held } = drainAligned();
    const [spare] = held.splice(0, 1);
    if (spare === undefined || !inSlab(spare)) throw new Error('the slab has no buffer at all');
    returnBuffer(spare); // one aligned buffer left: batches alternate between it and ordinary ones
    const directWrite = vi.spyOn(DirectWrites.prototype, 'write');
    try {
      const bytes = randomBytes(5 * MiB + 11, 9);
      const digest = digestOf(bytes);

      await ctx.store.put(digest, chunks(bytes, { size: 65_536 }), bytes.length);

      expect((await readContent(await ctx.store.open(digest))).equals(bytes)).toBe(true);
      // A number: written direct; undefined: through the page cache.
      const written = await Promise.all(directWrite.mock.results.map((result) => result.value as Promise<number | undefined>));
      expect(written.filter((count) => count === MiB).length).toBeGreaterThan(0);
      expect(written.filter((count) => count === undefined).length).toBeGreaterThan(0);
    } finally {
      giveBack(held);
    }
  });

  it('writes through the page cache when a direct write is refused (EINVAL), and asks no more', async () => {
    // No filesystem here refuses 4096-aligned O_DIRECT writes once it accepted the open: the refusal is injected.
    const probe = await open(join(ctx.dir, 'probe'), 'w');
    const fileHandle = Object.getPrototypeOf(probe) as typeof probe;
    await probe.close();
    const write = fileHandle.write;
    vi.spyOn(fileHandle, 'write').mockImplementation(function (this: typeof probe, ...args: unknown[]) {
      if (isDirect(this.fd)) return Promise.reject(Object.assign(new Error('EINVAL: invalid argument, write'), { code: 'EINVAL' }));
      return (write as (...a: unknown[]) => ReturnType<typeof write>).apply(this, args);
    });
    const store = async (seed: number): Promise<{ exact: boolean; directOpens: boolean[] }> => {
      const bytes = randomBytes(2 * MiB + 5, seed);
      const directOpens = await directOpensWhileStoring(ctx.store, bytes);
      return { exact: (await readContent(await ctx.store.open(digestOf(bytes)))).equals(bytes), directOpens };
    };

    expect(await store(1)).toEqual({ exact: true, directOpens: [true] });
    expect(await store(2)).toEqual({ exact: true, directOpens: [false] });
  });

  it('gives every aligned buffer back when a write is destroyed midway', async () => {
    const before = drainAligned();
    giveBack(before.held);
    const bytes = randomBytes(6 * MiB, 5);
    const { stream, done } = ctx.store.createWriteStream(digestOf(bytes), bytes.length);
    const first = MiB + 1000; // one batch written, the next begun
    await written(stream, bytes.subarray(0, first));

    // Destroyed inside this chunk, while the writer waits for the previous batch's write before the next.
    stream.write(bytes.subarray(first, first + 3.5 * MiB));
    stream.destroy(new Error('client went away'));
    await expect(done).rejects.toThrow('client went away');

    const after = drainAligned();
    giveBack(after.held);
    expect(after.count).toBe(before.count);
    expect(await ctx.store.temporaryUsage()).toEqual({ files: 0, bytes: 0 });
  });
});

describe('the buffer pools', () => {
  it('keep the aligned buffers for writes, whatever serving keeps of its own', () => {
    returnBuffer(takeAlignedBuffer()); // at least one aligned buffer is free
    // A response that fails keeps its buffer: serving's losses must not use up the aligned ones.
    const kept = Array.from({ length: 40 }, () => takeBuffer());
    const forWrite = takeAlignedBuffer();
    try {
      expect(kept.some(inSlab)).toBe(false);
      expect(inSlab(forWrite)).toBe(true);
    } finally {
      returnBuffer(forWrite);
    }
  });
});

async function runFixture(command: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
  child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  return { code, stdout, stderr };
}

const writeLargeBlobs = fileURLToPath(new URL('./fixtures/write-large-blobs.ts', import.meta.url));

/** What the fixture stored, written and read back. */
function expectBothBlobsStored(stdout: string): void {
  const report = JSON.parse(stdout) as { results: { written: { size: number; created: boolean }; readBack: boolean }[]; leftInTmp: { files: number } };
  expect(report.results.map(({ written, readBack }) => ({ size: written.size, created: written.created, readBack }))).toEqual([
    { size: 3 * MiB + 5, created: true, readBack: true },
    { size: 2 * MiB, created: true, readBack: true },
  ]);
  expect(report.leftInTmp.files).toBe(0);
}

describe('where O_DIRECT or its buffers are not to be had', () => {
  it('falls back to buffered writes on a filesystem that refuses O_DIRECT, leaving no temporary file behind', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cistern-ramfs-'));
    try {
      // A private mount namespace lets the test mount a ramfs (which refuses O_DIRECT) without privileges.
      const command = `mount -t ramfs none "$1" && exec "$2" --import tsx "$3" "$1/store"`;
      const run = await runFixture('unshare', ['--map-root-user', '--mount', 'sh', '-c', command, 'sh', dir, process.execPath, writeLargeBlobs]);

      expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
      expectBothBlobsStored(run.stdout);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('writes through the page cache when there is no WebAssembly for aligned buffers (node --jitless)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cistern-jitless-'));
    try {
      const run = await runFixture(process.execPath, ['--jitless', '--import', 'tsx', writeLargeBlobs, join(dir, 'store')]);

      expect(run.code, run.stderr).toBe(0);
      expectBothBlobsStored(run.stdout);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
