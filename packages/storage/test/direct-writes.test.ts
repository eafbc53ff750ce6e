import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { mkdtemp, readFile, readdir, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isAlignedForDirectIo, returnBuffer, takeAlignedBuffer, takeBuffer } from '../src/buffer-pool.ts';
import { chunks, digestOf, randomBytes, readContent, useStore } from './helpers.ts';

const MiB = 1 << 20;

/** The open flags of this process's descriptors on files in `dir`. */
async function openFlagsIn(dir: string): Promise<number[]> {
  const flags: number[] = [];
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
    if (!target.startsWith(`${dir}/`)) continue;
    const info = await readFile(`/proc/self/fdinfo/${fd}`, 'utf8');
    flags.push(Number.parseInt(/^flags:\s+([0-7]+)/m.exec(info)?.[1] ?? '', 8));
  }
  return flags;
}

describe('large blobs are written with O_DIRECT', () => {
  const ctx = useStore();

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
    expect(await readdir(join(ctx.store.root, 'tmp'))).toEqual([]);
  });

  it('opens the temporary file of a blob expected to fill a buffer with O_DIRECT, and a smaller one without', async () => {
    const tmp = join(ctx.store.root, 'tmp');
    const flagsWhileWriting = async (size: number): Promise<number[]> => {
      const bytes = randomBytes(size, 3);
      const { stream, done } = ctx.store.createWriteStream(digestOf(bytes), size);
      await new Promise<void>((resolve, reject) => stream.write(bytes.subarray(0, 1000), (error) => (error ? reject(error) : resolve())));
      const flags = await openFlagsIn(tmp);
      stream.end(bytes.subarray(1000));
      await done;
      return flags;
    };

    const large = await flagsWhileWriting(2 * MiB + 3);
    const small = await flagsWhileWriting(MiB - 1);

    expect(large.map((flags) => (flags & constants.O_DIRECT) !== 0)).toEqual([true]);
    expect(small.map((flags) => (flags & constants.O_DIRECT) !== 0)).toEqual([false]);
  });

  it('writes buffers from outside the exhausted pool through the page cache, and the blob is still exact', async () => {
    const held: Buffer[] = [];
    for (let i = 0; i < 40; i++) held.push(takeAlignedBuffer());
    try {
      const bytes = randomBytes(5 * MiB + 11, 9);
      const digest = digestOf(bytes);

      await ctx.store.put(digest, chunks(bytes, { size: 65_536 }), bytes.length);

      expect((await readContent(await ctx.store.open(digest))).equals(bytes)).toBe(true);
    } finally {
      for (const buffer of held) returnBuffer(buffer);
    }
  });
});

describe('the buffer pools', () => {
  it('keep the aligned buffers for writes, whatever serving keeps of its own', () => {
    // A response that fails keeps its buffer: serving's losses must not use up the aligned ones.
    const kept = Array.from({ length: 40 }, () => takeBuffer());
    const forWrite = takeAlignedBuffer();
    try {
      expect(kept.some(isAlignedForDirectIo)).toBe(false);
      expect(isAlignedForDirectIo(forWrite)).toBe(true);
    } finally {
      returnBuffer(forWrite);
    }
  });
});

describe('on a filesystem that refuses O_DIRECT', () => {
  it('falls back to buffered writes and leaves no temporary file behind', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cistern-ramfs-'));
    try {
      // A private mount namespace lets the test mount a ramfs (which refuses O_DIRECT) without privileges.
      const script = fileURLToPath(new URL('./fixtures/write-large-blobs.ts', import.meta.url));
      const command = `mount -t ramfs none "$1" && exec "$2" --import tsx "$3" "$1/store"`;
      const child = spawn('unshare', ['--map-root-user', '--mount', 'sh', '-c', command, 'sh', dir, process.execPath, script], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
      child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });

      const report = JSON.parse(stdout) as { results: { written: { size: number; created: boolean }; readBack: boolean }[]; leftInTmp: string[] };

      expect(report.results.map(({ written, readBack }) => ({ size: written.size, created: written.created, readBack }))).toEqual([
        { size: 3 * MiB + 5, created: true, readBack: true },
        { size: 2 * MiB, created: true, readBack: true },
      ]);
      expect(report.leftInTmp).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
