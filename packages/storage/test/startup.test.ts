import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FilesystemBlobStore, StorageError } from '../src/index.ts';
import { chunks, digestOf, useStore } from './helpers.ts';

describe('FilesystemBlobStore.assertWritable', () => {
  const ctx = useStore();

  it('creates the layout and leaves no probe behind', async () => {
    await ctx.store.assertWritable();

    expect((await readdir(ctx.store.root)).sort()).toEqual(['blobs', 'tmp']);
    expect((await readdir(join(ctx.store.root, 'blobs'))).sort()).toEqual(['sha256', 'sha512']);
    expect(await readdir(join(ctx.store.root, 'tmp'))).toEqual([]);
  });

  it('fails with one clear line naming the directory when it cannot be created', async () => {
    const file = join(ctx.dir, 'not-a-directory');
    await writeFile(file, 'x');
    const store = new FilesystemBlobStore(join(file, 'store'));

    const error: unknown = await store.assertWritable().then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(StorageError);
    expect(error).toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    const message = (error as StorageError).message;
    expect(message).toContain(`storage directory ${join(file, 'store')} is not writable`);
    expect(message).toContain('ENOTDIR');
    expect(message).not.toContain('\n');
  });

  it('makes writes into such a directory fail with STORAGE_UNAVAILABLE', async () => {
    const file = join(ctx.dir, 'not-a-directory');
    await writeFile(file, 'x');
    const store = new FilesystemBlobStore(join(file, 'store'));
    const bytes = Buffer.from('hello');
    const digest = digestOf(bytes);

    await expect(store.put(digest, chunks(bytes))).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    await expect(store.stat(digest)).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
  });
});
