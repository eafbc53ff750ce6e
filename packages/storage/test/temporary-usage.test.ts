import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chunks, digestOf, useStore } from './helpers.ts';

describe('FilesystemBlobStore.temporaryUsage', () => {
  const ctx = useStore();

  it('holds nothing before the store is laid out, and nothing once writes are done', async () => {
    expect(await ctx.store.temporaryUsage()).toEqual({ files: 0, bytes: 0 });
    await ctx.store.assertWritable();
    const bytes = Buffer.from('kept');
    await ctx.store.put(digestOf(bytes), chunks(bytes));
    expect(await ctx.store.temporaryUsage()).toEqual({ files: 0, bytes: 0 });
  });

  it('counts the regular files directly under tmp and their sizes, not directories or what they hold', async () => {
    await ctx.store.assertWritable();
    const tmp = join(ctx.store.root, 'tmp');
    await writeFile(join(tmp, 'abandoned-1'), Buffer.alloc(1000));
    await writeFile(join(tmp, 'abandoned-2'), Buffer.alloc(24));
    await mkdir(join(tmp, 'nested'));
    await writeFile(join(tmp, 'nested', 'deeper'), Buffer.alloc(5000));
    expect(await ctx.store.temporaryUsage()).toEqual({ files: 2, bytes: 1024 });
  });
});
