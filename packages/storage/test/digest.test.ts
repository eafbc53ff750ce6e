import { access } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseDigest } from '@cistern/oci';
import { useStore } from './helpers.ts';

const hex64 = 'a'.repeat(64);

const invalid = [
  'sha256:../../etc/passwd',
  `sha256:../${hex64.slice(3)}`,
  `sha256:${'ab/'.repeat(21)}a`,
  `sha256:${hex64.toUpperCase()}`,
  `SHA256:${hex64}`,
  `sha256:${hex64.slice(1)}`,
  `sha256:${hex64}a`,
  `sha256:${hex64}\n`,
  ` sha256:${hex64}`,
  `sha256:${hex64.slice(1)}g`,
  `sha512:${hex64}`,
  `sha384:${'a'.repeat(96)}`,
  `md5:${'a'.repeat(32)}`,
  hex64,
  'sha256:',
  '',
];

describe('digests', () => {
  it('parses sha256 and sha512 digests', () => {
    expect(parseDigest(`sha256:${hex64}`)).toEqual({ algorithm: 'sha256', encoded: hex64 });
    expect(parseDigest(`sha512:${'0f'.repeat(64)}`)).toEqual({ algorithm: 'sha512', encoded: '0f'.repeat(64) });
  });

  it.each(invalid)('rejects %j', (digest) => {
    expect(() => parseDigest(digest)).toThrow(expect.objectContaining({ code: 'DIGEST_INVALID' }));
  });
});

describe('FilesystemBlobStore with malformed digests', () => {
  const ctx = useStore();

  it.each(invalid)('rejects %j in every operation without touching the filesystem', async (digest) => {
    const store = ctx.store;
    const source = Readable.from([Buffer.from('x')]);

    for (const attempt of [
      () => store.lookup(digest),
      () => store.stat(digest),
      () => store.exists(digest),
      () => store.open(digest, { start: 0 }),
      () => store.put(digest, source, 1),
      () => store.delete(digest),
    ]) {
      await expect(attempt()).rejects.toMatchObject({ code: 'DIGEST_INVALID' });
    }
    expect(() => store.createWriteStream(digest)).toThrow(expect.objectContaining({ code: 'DIGEST_INVALID' }));
    expect(source.destroyed).toBe(true);
    await expect(access(store.root)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
