import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FilesystemBlobStore, type BlobSink } from '../src/index.ts';
import { digestOf, randomBytes, useStore } from './helpers.ts';

const HOUR = 60 * 60_000;
const DEAD_OWNER = 'dead0000dead';

/** Sets a file's mtime `ageMs` in the past. */
async function age(path: string, ageMs: number): Promise<void> {
  const then = new Date(Date.now() - ageMs);
  await utimes(path, then, then);
}

/** A partial file as a killed writer leaves it: `bytes` long, last written `ageMs` ago. */
async function plant(dir: string, name: string, bytes: number, ageMs: number): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, name);
  await writeFile(path, Buffer.alloc(bytes, 7));
  await age(path, ageMs);
  return path;
}

const partialName = (owner: string) => `${owner}.${'ab'.repeat(8)}.${randomUUID()}`;

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

const MiB = 1 << 20;

/**
 * Starts writing a 2 MiB blob and holds the write open once its partial file
 * holds exactly the first MiB (the rest of what was given waits in the
 * writer's next batch); answers that file's name and the bytes not yet given.
 */
async function writeHalf(store: FilesystemBlobStore, seed: number): Promise<{ sink: BlobSink; digest: string; name: string; rest: Buffer }> {
  const before = new Set(await readdir(join(store.root, 'tmp')).catch(() => []));
  const bytes = randomBytes(2 * MiB, seed);
  const digest = digestOf(bytes);
  const sink = store.createWriteStream(digest, bytes.length);
  await written(sink.stream, bytes.subarray(0, MiB + 10));
  const name = (await readdir(join(store.root, 'tmp'))).find((n) => !before.has(n) && n !== 'owners');
  if (name === undefined) throw new Error('the write made no partial file');
  const path = join(store.root, 'tmp', name);
  await vi.waitFor(async () => expect((await stat(path)).size).toBe(MiB));
  return { sink, digest, name, rest: bytes.subarray(MiB + 10) };
}

function written(stream: Writable, chunk: Buffer): Promise<void> {
  return new Promise<void>((resolve, reject) => stream.write(chunk, (error) => (error ? reject(error) : resolve())));
}

async function abandon(sink: BlobSink): Promise<void> {
  sink.stream.destroy();
  await sink.done.catch(() => undefined);
}

describe('FilesystemBlobStore.sweepTemporary', () => {
  const ctx = useStore();
  const tmp = () => join(ctx.store.root, 'tmp');
  const owners = () => join(tmp(), 'owners');
  afterEach(async () => {
    await ctx.store.close();
    vi.useRealTimers();
  });

  it("removes a dead owner's partial files older than the protection time, with or without a heartbeat left", async () => {
    const unbeaten = await plant(tmp(), partialName(DEAD_OWNER), 1000, 2 * HOUR);
    await plant(owners(), 'stale0000000', 0, 60_000);
    const stale = await plant(tmp(), partialName('stale0000000'), 500, 2 * HOUR);

    expect(await ctx.store.sweepTemporary({ olderThanMs: HOUR })).toEqual({ files: 2, bytes: 1500 });
    expect(await exists(unbeaten)).toBe(false);
    expect(await exists(stale)).toBe(false);
  });

  it('keeps the partial files another live store is writing, whatever their age, and sweeps them once it closed', async () => {
    const other = new FilesystemBlobStore(ctx.store.root);
    const { sink, name } = await writeHalf(other, 1);
    await age(join(tmp(), name), 2 * HOUR);

    expect(await ctx.store.sweepTemporary({ olderThanMs: 0 })).toEqual({ files: 0, bytes: 0 });
    expect(await exists(join(tmp(), name))).toBe(true);

    // A closed store is a dead owner: what it left (here, as if killed mid-write) is fair game.
    await other.close();
    expect(await ctx.store.sweepTemporary({ olderThanMs: 0 })).toEqual({ files: 1, bytes: MiB });
    await abandon(sink);
  });

  it('keeps its own partial file while the write is open, and removes one of its own that no write holds', async () => {
    const { sink, name } = await writeHalf(ctx.store, 2);
    await age(join(tmp(), name), 2 * HOUR);
    const owner = name.slice(0, 12);
    const leftover = await plant(tmp(), partialName(owner), 300, 2 * HOUR);

    expect(await ctx.store.sweepTemporary({ olderThanMs: 0 })).toEqual({ files: 1, bytes: 300 });
    expect(await exists(join(tmp(), name))).toBe(true);
    expect(await exists(leftover)).toBe(false);
    await abandon(sink);
  });

  it('keeps partial files written to within the protection time; a protection of 0 takes them all', async () => {
    const recent = await plant(tmp(), partialName(DEAD_OWNER), 100, 10 * 60_000);

    expect(await ctx.store.sweepTemporary({ olderThanMs: HOUR })).toEqual({ files: 0, bytes: 0 });
    expect(await exists(recent)).toBe(true);
    expect(await ctx.store.sweepTemporary({ olderThanMs: 0 })).toEqual({ files: 1, bytes: 100 });
  });

  it('counts in a dry run exactly what a real sweep then removes, removing nothing', async () => {
    const dead = await plant(tmp(), partialName(DEAD_OWNER), 700, 2 * HOUR);
    const fresh = await plant(tmp(), partialName(DEAD_OWNER), 300, 60_000);
    const stray = await plant(tmp(), `${'aa'.repeat(8)}.${randomUUID()}`, 40, 5_000);

    const dry = await ctx.store.sweepTemporary({ olderThanMs: 0, dryRun: true });
    expect([await exists(dead), await exists(fresh), await exists(stray)]).toEqual([true, true, true]);
    expect(await ctx.store.sweepTemporary({ olderThanMs: 0 })).toEqual(dry);
    expect(dry).toEqual({ files: 2, bytes: 1000 });
    expect(await exists(stray)).toBe(true);
  });

  it('treats a name of no owner (an older version, a stray file) as abandoned once older than a heartbeat can be', async () => {
    const legacy = await plant(tmp(), `${'cd'.repeat(8)}.${randomUUID()}`, 200, 2 * HOUR);
    const probe = await plant(tmp(), `.probe-${randomUUID()}`, 2, 2 * HOUR);
    const recentLegacy = await plant(tmp(), `${'ef'.repeat(8)}.${randomUUID()}`, 50, 60_000);

    expect(await ctx.store.sweepTemporary({ olderThanMs: HOUR })).toEqual({ files: 2, bytes: 202 });
    expect(await exists(legacy)).toBe(false);
    expect(await exists(probe)).toBe(false);
    expect(await exists(recentLegacy)).toBe(true);
  });

  it('removes the heartbeats of owners dead for over an hour past staleness, and no others', async () => {
    const longDead = await plant(owners(), 'long0000dead', 0, 2 * HOUR);
    const recentlyDead = await plant(owners(), 'just0000dead', 0, 5 * 60_000);

    await ctx.store.sweepTemporary({ olderThanMs: 0 });

    expect(await exists(longDead)).toBe(false);
    expect(await exists(recentlyDead)).toBe(true);
    expect(await readdir(owners())).toHaveLength(2); // the recently dead one, and the sweeping store's own
  });

  it('never follows a symbolic link, nor enters or removes a directory in tmp', async () => {
    const outside = await plant(ctx.dir, 'precious', 10, 2 * HOUR);
    await mkdir(tmp(), { recursive: true });
    await symlink(outside, join(tmp(), partialName(DEAD_OWNER)));
    const nested = await plant(join(tmp(), 'nested'), partialName(DEAD_OWNER), 10, 2 * HOUR);

    expect(await ctx.store.sweepTemporary({ olderThanMs: 0 })).toEqual({ files: 0, bytes: 0 });
    expect(await readFile(outside)).toHaveLength(10);
    expect(await exists(nested)).toBe(true);
  });

  it('answers nothing removed when tmp does not exist yet', async () => {
    expect(await ctx.store.sweepTemporary({ olderThanMs: 0 })).toEqual({ files: 0, bytes: 0 });
  });

  it('never makes a half-written blob visible: swept from under its write, the write fails', async () => {
    const other = new FilesystemBlobStore(ctx.store.root);
    const { sink, digest, name, rest } = await writeHalf(other, 3);
    await other.close(); // its heartbeat gone, as if its process had hung past staleness

    expect(await ctx.store.sweepTemporary({ olderThanMs: 0 })).toEqual({ files: 1, bytes: MiB });
    expect(await exists(join(tmp(), name))).toBe(false);
    // Every byte arrives and verifies, but there is no file left to rename into place.
    sink.stream.end(rest);
    await expect(sink.done).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    expect(await ctx.store.lookup(digest)).toBeUndefined();
  });
});

describe('FilesystemBlobStore.temporaryUsage', () => {
  const ctx = useStore();
  afterEach(() => ctx.store.close());

  it('counts the partial files in tmp and their bytes, not the heartbeats', async () => {
    expect(await ctx.store.temporaryUsage()).toEqual({ files: 0, bytes: 0 });
    const { sink } = await writeHalf(ctx.store, 4);
    await plant(join(ctx.store.root, 'tmp'), partialName(DEAD_OWNER), 1000, 0);

    expect(await ctx.store.temporaryUsage()).toEqual({ files: 2, bytes: MiB + 1000 });
    await abandon(sink);
    expect(await ctx.store.temporaryUsage()).toEqual({ files: 1, bytes: 1000 });
  });
});

describe('the owner heartbeat', () => {
  const ctx = useStore();
  const owners = () => join(ctx.store.root, 'tmp', 'owners');

  it('is on disk before the first partial file, rewritten every 10 s, and removed on close', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const { sink, name } = await writeHalf(ctx.store, 5);
      const heartbeat = join(owners(), name.slice(0, 12));
      await age(heartbeat, 25_000);

      vi.advanceTimersByTime(10_000);
      await vi.waitFor(async () => expect(Date.now() - (await stat(heartbeat)).mtimeMs).toBeLessThan(5000));

      await abandon(sink);
      await ctx.store.close();
      expect(await readdir(owners())).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('comes back after tmp was removed behind the store', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const { sink, name } = await writeHalf(ctx.store, 6);
      await abandon(sink);
      await rm(join(ctx.store.root, 'tmp'), { recursive: true });

      vi.advanceTimersByTime(10_000);
      await vi.waitFor(async () => expect(await readdir(owners())).toEqual([name.slice(0, 12)]));
      await ctx.store.close();
    } finally {
      vi.useRealTimers();
    }
  });
});
