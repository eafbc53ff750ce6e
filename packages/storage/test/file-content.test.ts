import { readdir, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { FilesystemBlobStore } from '../src/index.ts';
import { chunks, digestOf, randomBytes, readContent, useStore } from './helpers.ts';

const MiB = 1 << 20;

async function openFds(): Promise<number> {
  return (await readdir('/proc/self/fd')).length;
}

/** A sink that, as a socket does, reads what it is given on a later turn, then calls back. */
function slowSink(parts: Buffer[], failAfterWrites = Infinity): Writable {
  let writes = 0;
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      writes += 1;
      if (writes > failAfterWrites) {
        done(new Error('client went away'));
        return;
      }
      void nextTurn().then(() => {
        parts.push(Buffer.from(chunk));
        done();
      });
    },
  });
}

describe('serving stored blobs through writeTo (pooled read buffers)', () => {
  const ctx = useStore();

  it('delivers blobs and ranges that span several read buffers byte for byte', async () => {
    const bytes = randomBytes(3.5 * MiB, 21);
    const digest = digestOf(bytes);
    await ctx.store.put(digest, chunks(bytes, { size: 256 * 1024 }));

    expect((await readContent(await ctx.store.open(digest))).equals(bytes)).toBe(true);
    const range = { start: MiB - 1, end: 2 * MiB + 1 };
    const content = await ctx.store.open(digest, range);
    expect({ offset: content.offset, length: content.length }).toEqual({ offset: MiB - 1, length: MiB + 3 });
    expect((await readContent(content)).equals(bytes.subarray(MiB - 1, 2 * MiB + 2))).toBe(true);
  });

  it('never hands one transfer the bytes of another while buffers are reused', async () => {
    const blobs = Array.from({ length: 12 }, (_, i) => randomBytes(2 * MiB + 1000 * i, 100 + i));
    for (const bytes of blobs) await ctx.store.put(digestOf(bytes), chunks(bytes, { size: 512 * 1024 }));

    const received = await Promise.all(
      blobs.map(async (bytes) => {
        const parts: Buffer[] = [];
        await (await ctx.store.open(digestOf(bytes))).writeTo(slowSink(parts));
        return Buffer.concat(parts);
      }),
    );

    received.forEach((got, i) => expect(got.equals(blobs[i] ?? Buffer.alloc(0))).toBe(true));
  });

  it('copies a blob into another store through writeTo, whose writer keeps none of the reused buffers', async () => {
    const bytes = randomBytes(4 * MiB + 77, 25);
    const digest = digestOf(bytes);
    await ctx.store.put(digest, chunks(bytes, { size: MiB }));
    const other = new FilesystemBlobStore(join(ctx.dir, 'other'));

    const sink = other.createWriteStream(digest, bytes.length);
    await (await ctx.store.open(digest)).writeTo(sink.stream);

    await expect(sink.done).resolves.toEqual({ digest, size: bytes.length, created: true });
    expect((await readContent(await other.open(digest))).equals(bytes)).toBe(true);
  });

  it('destroys the destination, rejects and closes the file when the destination fails', async () => {
    const bytes = randomBytes(3 * MiB, 22);
    const digest = digestOf(bytes);
    await ctx.store.put(digest, chunks(bytes, { size: MiB }));
    const before = await openFds();

    const sink = slowSink([], 1);
    await expect((await ctx.store.open(digest)).writeTo(sink)).rejects.toThrow('client went away');

    expect(sink.destroyed).toBe(true);
    expect(await openFds()).toBe(before);
    // The buffers given back are intact for the next reader.
    expect((await readContent(await ctx.store.open(digest))).equals(bytes)).toBe(true);
  });

  it('ends a transfer whose destination never calls back when its signal aborts, releasing the file', async () => {
    const bytes = randomBytes(3 * MiB, 26);
    const digest = digestOf(bytes);
    await ctx.store.put(digest, chunks(bytes, { size: MiB }));
    const before = await openFds();
    // Like an HTTP response queued behind a pipelined one whose client left: writes wait forever.
    const stuck = new Writable({ write: () => undefined });
    const left = new AbortController();

    const transfer = (await ctx.store.open(digest)).writeTo(stuck, left.signal);
    await nextTurn();
    left.abort();

    await expect(transfer).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE', message: 'transfer aborted' });
    expect(stuck.destroyed).toBe(true);
    expect(await openFds()).toBe(before);
  });

  it('fails the transfer with STORAGE_UNAVAILABLE when the file ends early', async () => {
    const bytes = randomBytes(2 * MiB, 23);
    const digest = digestOf(bytes);
    await ctx.store.put(digest, chunks(bytes, { size: MiB }));
    const content = await ctx.store.open(digest);
    const hex = digest.slice('sha256:'.length);
    await truncate(join(ctx.store.root, 'blobs', 'sha256', hex.slice(0, 2), hex), MiB + 5);

    const parts: Buffer[] = [];
    const sink = slowSink(parts);
    await expect(content.writeTo(sink)).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    expect(sink.destroyed).toBe(true);
    expect(Buffer.concat(parts).length).toBeLessThan(bytes.length);
  });

  it('is consumed once; discard releases the file unread', async () => {
    const bytes = randomBytes(1000, 24);
    const digest = digestOf(bytes);
    await ctx.store.put(digest, chunks(bytes));
    const before = await openFds();

    const content = await ctx.store.open(digest);
    expect(await openFds()).toBe(before + 1);
    await content.discard();
    expect(await openFds()).toBe(before);
    await expect(content.writeTo(slowSink([]))).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });

    const once = await ctx.store.open(digest);
    await readContent(once);
    await expect(readContent(once)).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
  });
});
