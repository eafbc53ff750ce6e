import { beforeEach, describe, expect, it } from 'vitest';
import type { ByteRange } from '../src/index.ts';
import { chunks, digestOf, randomBytes, readContent, useStore } from './helpers.ts';

describe('FilesystemBlobStore range reads', () => {
  const ctx = useStore();
  const bytes = randomBytes(100_000, 11);
  const digest = digestOf(bytes);

  beforeEach(async () => {
    await ctx.store.put(digest, chunks(bytes));
  });

  async function read(range: ByteRange): Promise<{ offset: number; length: number; size: number; bytes: Buffer }> {
    const content = await ctx.store.open(digest, range);
    return { offset: content.offset, length: content.length, size: content.size, bytes: await readContent(content) };
  }

  it.each([
    ['first byte', { start: 0, end: 0 }, 0, 1],
    ['last byte', { start: 99_999, end: 99_999 }, 99_999, 1],
    ['middle', { start: 12_345, end: 67_889 }, 12_345, 55_545],
    ['whole', { start: 0, end: 99_999 }, 0, 100_000],
    ['open-ended', { start: 90_000 }, 90_000, 10_000],
    ['end past the last byte, clamped', { start: 99_990, end: 500_000 }, 99_990, 10],
  ] as const)('%s', async (_name, range, offset, length) => {
    const got = await read(range);

    expect({ offset: got.offset, length: got.length, size: got.size }).toEqual({ offset, length, size: 100_000 });
    expect(got.bytes.equals(bytes.subarray(offset, offset + length))).toBe(true);
  });

  it.each([
    ['start at the size', { start: 100_000 }],
    ['start past the size', { start: 200_000, end: 200_001 }],
    ['end before start', { start: 10, end: 9 }],
    ['negative start', { start: -1, end: 5 }],
    ['fractional start', { start: 1.5, end: 5 }],
  ])('rejects %s with RANGE_INVALID', async (_name, range) => {
    await expect(ctx.store.open(digest, range)).rejects.toMatchObject({ code: 'RANGE_INVALID' });
  });

  it('rejects any range of an empty blob', async () => {
    const empty = digestOf(Buffer.alloc(0));
    await ctx.store.put(empty, chunks(Buffer.alloc(0)));

    await expect(ctx.store.open(empty, { start: 0, end: 0 })).rejects.toMatchObject({ code: 'RANGE_INVALID' });
  });
});
