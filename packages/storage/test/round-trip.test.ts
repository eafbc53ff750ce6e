import { stat as statFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { chunks, digestOf, filesUnder, randomBytes, readAll, readContent, useStore } from './helpers.ts';

describe('FilesystemBlobStore round trip', () => {
  const ctx = useStore();

  it('stores a blob under blobs/sha256/<2 hex>/<hex> and reads back the same bytes', async () => {
    const bytes = randomBytes(300_000);
    const digest = digestOf(bytes);
    const hex = digest.slice('sha256:'.length);

    const result = await ctx.store.put(digest, chunks(bytes), bytes.length);

    expect(result).toEqual({ digest, size: 300_000, created: true });
    expect(await filesUnder(ctx.store.root)).toEqual([join('blobs', 'sha256', hex.slice(0, 2), hex)]);
    expect(await ctx.store.stat(digest)).toEqual({ digest, size: 300_000 });
    expect(await ctx.store.exists(digest)).toBe(true);
    const content = await ctx.store.open(digest);
    expect({ size: content.size, offset: content.offset, length: content.length }).toEqual({
      size: 300_000,
      offset: 0,
      length: 300_000,
    });
    expect((await readContent(content)).equals(bytes)).toBe(true);
  });

  it('stores a sha512 blob once: blobs/sha512 is a hard link to its sha256 file', async () => {
    const bytes = randomBytes(5000, 7);
    const digest = digestOf(bytes, 'sha512');
    const hex = digest.slice('sha512:'.length);
    const sha256 = digestOf(bytes);
    const sha256Hex = sha256.slice('sha256:'.length);

    expect(await ctx.store.put(digest, chunks(bytes))).toEqual({ digest, size: 5000, created: true });

    expect(await filesUnder(ctx.store.root)).toEqual([
      join('blobs', 'sha256', sha256Hex.slice(0, 2), sha256Hex),
      join('blobs', 'sha512', hex.slice(0, 2), hex),
    ]);
    const [a, b] = await Promise.all(
      [join('sha256', sha256Hex.slice(0, 2), sha256Hex), join('sha512', hex.slice(0, 2), hex)].map((path) => statFile(join(ctx.store.root, 'blobs', path))),
    );
    expect([a?.ino, a?.nlink]).toEqual([b?.ino, 2]);
    expect((await readContent(await ctx.store.open(digest))).equals(bytes)).toBe(true);
    expect(await ctx.store.put(sha256, chunks(bytes))).toEqual({ digest: sha256, size: 5000, created: false });
  });

  it('links a sha512 blob to the sha256 file already stored, and refuses bytes that do not hash to it', async () => {
    const bytes = randomBytes(5000, 8);
    const sha256 = digestOf(bytes);
    const sha256Hex = sha256.slice('sha256:'.length);
    await ctx.store.put(sha256, chunks(bytes));
    const before = await statFile(join(ctx.store.root, 'blobs', 'sha256', sha256Hex.slice(0, 2), sha256Hex));
    const digest = digestOf(bytes, 'sha512');
    const other = digestOf(randomBytes(5000, 9), 'sha512');

    await expect(ctx.store.put(other, chunks(bytes))).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect(await ctx.store.put(digest, chunks(bytes))).toEqual({ digest, size: 5000, created: true });

    expect((await ctx.store.stat(digest)).size).toBe(5000);
    const hex = digest.slice('sha512:'.length);
    expect((await statFile(join(ctx.store.root, 'blobs', 'sha512', hex.slice(0, 2), hex))).ino).toBe(before.ino);
    expect(await ctx.store.exists(other)).toBe(false);
    expect((await filesUnder(ctx.store.root)).filter((f) => f.startsWith('tmp'))).toEqual([]);
  });

  it('stores an empty blob', async () => {
    const digest = digestOf(Buffer.alloc(0));

    expect(await ctx.store.put(digest, Readable.from([]), 0)).toEqual({ digest, size: 0, created: true });
    const content = await ctx.store.open(digest);
    expect(content.length).toBe(0);
    expect((await readContent(content)).length).toBe(0);
  });

  it('accepts bytes handed to its sink as they arrive, while another consumer reads the same bytes', async () => {
    const bytes = randomBytes(200_000, 3);
    const digest = digestOf(bytes);
    const sink = ctx.store.createWriteStream(digest, bytes.length);
    const client = new PassThrough();
    const clientBytes = readAll(client);
    const upstream = chunks(bytes, { size: 4096 });
    upstream.on('data', (chunk: Buffer) => {
      client.write(chunk);
      sink.stream.write(chunk);
    });
    upstream.on('end', () => {
      client.end();
      sink.stream.end();
    });

    expect(await sink.done).toEqual({ digest, size: 200_000, created: true });
    expect((await clientBytes).equals(bytes)).toBe(true);
    expect((await readContent(await ctx.store.open(digest))).equals(bytes)).toBe(true);
  });

  it('reports the blob stored once the sink has finished', async () => {
    const bytes = randomBytes(10_000, 4);
    const digest = digestOf(bytes);
    const sink = ctx.store.createWriteStream(digest);

    await pipeline(chunks(bytes), sink.stream);

    expect(await ctx.store.exists(digest)).toBe(true);
    expect((await sink.done).size).toBe(10_000);
  });

  it('rewriting a stored digest verifies and discards the bytes, leaving the file untouched', async () => {
    const bytes = randomBytes(50_000, 5);
    const digest = digestOf(bytes);
    await ctx.store.put(digest, chunks(bytes));
    const path = join(ctx.store.root, 'blobs', 'sha256', digest.slice(7, 9), digest.slice(7));
    const before = await statFile(path);
    const source = chunks(bytes);

    const again = await ctx.store.put(digest, source, bytes.length);

    expect(again).toEqual({ digest, size: 50_000, created: false });
    expect(source.readableEnded).toBe(true);
    expect((await statFile(path)).ino).toBe(before.ino);
    expect(await filesUnder(ctx.store.root)).toHaveLength(1);
  });

  it('rejects wrong bytes for a stored digest and keeps the stored blob', async () => {
    const bytes = randomBytes(20_000, 6);
    const digest = digestOf(bytes);
    await ctx.store.put(digest, chunks(bytes));

    await expect(ctx.store.put(digest, chunks(randomBytes(20_000, 99)))).rejects.toMatchObject({
      code: 'DIGEST_MISMATCH',
    });
    expect((await readContent(await ctx.store.open(digest))).equals(bytes)).toBe(true);
  });

  it('deletes a blob; stat, open and a second delete then say BLOB_UNKNOWN', async () => {
    const bytes = randomBytes(1000, 8);
    const digest = digestOf(bytes);
    await ctx.store.put(digest, chunks(bytes));

    await ctx.store.delete(digest);

    expect(await ctx.store.exists(digest)).toBe(false);
    await expect(ctx.store.stat(digest)).rejects.toMatchObject({ code: 'BLOB_UNKNOWN' });
    await expect(ctx.store.open(digest)).rejects.toMatchObject({ code: 'BLOB_UNKNOWN' });
    await expect(ctx.store.delete(digest)).rejects.toMatchObject({ code: 'BLOB_UNKNOWN' });
    expect(await filesUnder(join(ctx.store.root, 'blobs'))).toEqual([]);
  });

  it('says BLOB_UNKNOWN for a digest never stored, before the store directory exists', async () => {
    const digest = digestOf(Buffer.from('never'));

    expect(await ctx.store.exists(digest)).toBe(false);
    await expect(ctx.store.stat(digest)).rejects.toMatchObject({ code: 'BLOB_UNKNOWN' });
    await expect(ctx.store.open(digest)).rejects.toMatchObject({ code: 'BLOB_UNKNOWN' });
  });

  it('answers lookup with the size of a stored blob and undefined for an absent one, rejecting neither', async () => {
    const bytes = randomBytes(2000, 9);
    const digest = digestOf(bytes);
    expect(await ctx.store.lookup(digest)).toBeUndefined();
    await ctx.store.put(digest, chunks(bytes));
    expect(await ctx.store.lookup(digest)).toEqual({ digest, size: 2000 });
    await ctx.store.delete(digest);
    expect(await ctx.store.lookup(digest)).toBeUndefined();
  });
});
