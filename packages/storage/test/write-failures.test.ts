import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { chunks, digestOf, filesUnder, randomBytes, readContent, useStore } from './helpers.ts';

describe('FilesystemBlobStore failed writes leave nothing behind', () => {
  const ctx = useStore();
  const bytes = randomBytes(250_000, 21);
  const digest = digestOf(bytes);

  async function expectNothingStored(): Promise<void> {
    expect(await ctx.store.exists(digest)).toBe(false);
    expect(await filesUnder(ctx.store.root)).toEqual([]);
  }

  it('rejects a corrupted stream with DIGEST_MISMATCH', async () => {
    const corrupted = Buffer.from(bytes);
    corrupted[123_456] = (corrupted[123_456] ?? 0) ^ 0xff;

    const error = ctx.store.put(digest, chunks(corrupted), bytes.length);

    await expect(error).rejects.toMatchObject({ name: 'StorageError', code: 'DIGEST_MISMATCH' });
    await expect(error).rejects.toThrow(`hashes to ${digestOf(corrupted)}`);
    await expectNothingStored();
  });

  it('rejects fewer bytes than expected with SIZE_INVALID', async () => {
    await expect(ctx.store.put(digest, chunks(bytes.subarray(0, 1000)), bytes.length)).rejects.toMatchObject({
      code: 'SIZE_INVALID',
    });
    await expectNothingStored();
  });

  it('rejects more bytes than expected with SIZE_INVALID, without reading them all', async () => {
    const source = chunks(Buffer.concat([bytes, bytes]), { size: 10_000 });

    await expect(ctx.store.put(digest, source, bytes.length)).rejects.toMatchObject({ code: 'SIZE_INVALID' });
    expect(source.destroyed).toBe(true);
    expect(source.readableEnded).toBe(false);
    await expectNothingStored();
  });

  it('rejects the right bytes under a wrong expected size with SIZE_INVALID', async () => {
    await expect(ctx.store.put(digest, chunks(bytes), bytes.length + 1)).rejects.toMatchObject({
      code: 'SIZE_INVALID',
    });
    await expectNothingStored();
  });

  it.each([-1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1])('rejects expected size %s', async (size) => {
    const source = chunks(bytes);

    await expect(ctx.store.put(digest, source, size)).rejects.toMatchObject({ code: 'SIZE_INVALID' });
    expect(source.destroyed).toBe(true);
    await expectNothingStored();
  });

  it('passes on the error of a source that fails midway', async () => {
    const source = chunks(bytes, { size: 10_000, failAfter: 100_000 });

    await expect(ctx.store.put(digest, source, bytes.length)).rejects.toThrow('upstream connection reset');
    await expectNothingStored();
  });

  it('cleans up when the sink is destroyed with an error while bytes arrive', async () => {
    const sink = ctx.store.createWriteStream(digest);
    await new Promise<void>((resolve) => sink.stream.write(bytes.subarray(0, 50_000), () => resolve()));
    expect(await filesUnder(join(ctx.store.root, 'tmp'))).toHaveLength(1);

    sink.stream.destroy(new Error('client went away'));

    await expect(sink.done).rejects.toThrow('client went away');
    await expectNothingStored();
  });

  it('says BLOB_UPLOAD_INVALID when the sink is destroyed without an error', async () => {
    const sink = ctx.store.createWriteStream(digest);
    sink.stream.write(bytes.subarray(0, 1000));

    sink.stream.destroy();

    await expect(sink.done).rejects.toMatchObject({ code: 'BLOB_UPLOAD_INVALID' });
    await expectNothingStored();
  });

  it('reports a failed write through pipeline as well as through done', async () => {
    const sink = ctx.store.createWriteStream(digestOf(Buffer.from('other')));

    await expect(pipeline(chunks(bytes), sink.stream)).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    await expect(sink.done).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect(await filesUnder(ctx.store.root)).toEqual([]);
  });
});

describe('FilesystemBlobStore concurrent writes', () => {
  const ctx = useStore();
  const bytes = randomBytes(400_000, 31);
  const digest = digestOf(bytes);

  it('lets several writers of the same digest all succeed with one complete blob', async () => {
    const results = await Promise.all([7_000, 13_000, 64_000, 100_000, 3_000, 50_000].map((size) => ctx.store.put(digest, chunks(bytes, { size }))));

    for (const result of results) expect(result).toMatchObject({ digest, size: 400_000 });
    expect(results.some((r) => r.created)).toBe(true);
    expect(await filesUnder(ctx.store.root)).toHaveLength(1);
    expect((await readContent(await ctx.store.open(digest))).equals(bytes)).toBe(true);
  });

  it('keeps the good blob when a corrupt writer of the same digest races it', async () => {
    const corrupt = Buffer.from(bytes);
    corrupt[0] = (corrupt[0] ?? 0) ^ 1;

    const [good, bad] = await Promise.allSettled([
      ctx.store.put(digest, chunks(bytes, { size: 5_000 })),
      ctx.store.put(digest, chunks(corrupt, { size: 5_000 })),
    ]);

    expect(good.status).toBe('fulfilled');
    expect(bad).toMatchObject({ status: 'rejected', reason: { code: 'DIGEST_MISMATCH' } });
    expect(await filesUnder(ctx.store.root)).toHaveLength(1);
    expect((await readContent(await ctx.store.open(digest))).equals(bytes)).toBe(true);
  });

  it('reads a blob whole while it is being rewritten', async () => {
    await ctx.store.put(digest, Readable.from([bytes]));

    const [read] = await Promise.all([ctx.store.open(digest).then((c) => readContent(c)), ctx.store.put(digest, chunks(bytes))]);

    expect(read.equals(bytes)).toBe(true);
  });
});
