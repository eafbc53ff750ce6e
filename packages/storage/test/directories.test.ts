import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chunks, digestOf, filesUnder, randomBytes, useStore } from './helpers.ts';

describe('FilesystemBlobStore directories', () => {
  const ctx = useStore();
  const pathOf = (digest: string) => join(ctx.store.root, 'blobs', 'sha256', digest.slice(7, 9), digest.slice(7));

  it('recreates its temporary and shard directories when they vanish between writes', async () => {
    const first = randomBytes(10_000, 3);
    await ctx.store.put(digestOf(first), chunks(first));
    // Same shard as the first blob: the store has already made sure of that directory once.
    let second = randomBytes(10_000, 4);
    for (let seed = 5; digestOf(second).slice(7, 9) !== digestOf(first).slice(7, 9); seed++) second = randomBytes(10_000, seed);
    await rm(join(ctx.store.root, 'tmp'), { recursive: true });
    await rm(join(ctx.store.root, 'blobs'), { recursive: true });

    await expect(ctx.store.put(digestOf(second), chunks(second))).resolves.toMatchObject({ created: true });
    expect((await readFile(pathOf(digestOf(second)))).equals(second)).toBe(true);
    expect(await filesUnder(ctx.store.root)).toHaveLength(1);
  });

  it('stores a blob that arrives in many small chunks, written in batches, byte for byte', async () => {
    const bytes = randomBytes(5 * 1024 * 1024, 9);
    await ctx.store.put(digestOf(bytes), chunks(bytes, { size: 3000 }), bytes.length);
    expect((await readFile(pathOf(digestOf(bytes)))).equals(bytes)).toBe(true);
  });
});
