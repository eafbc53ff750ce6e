import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { afterEach, beforeEach } from 'vitest';
import { FilesystemBlobStore, type BlobContent } from '../src/index.ts';

/** A fresh store in its own temporary directory for each test. */
export function useStore(): { readonly store: FilesystemBlobStore; readonly dir: string } {
  const context = { store: undefined as unknown as FilesystemBlobStore, dir: '' };
  beforeEach(async () => {
    context.dir = await mkdtemp(join(tmpdir(), 'cistern-storage-'));
    context.store = new FilesystemBlobStore(join(context.dir, 'store'));
  });
  afterEach(async () => {
    await rm(context.dir, { recursive: true, force: true });
  });
  return context;
}

export function digestOf(bytes: Buffer, algorithm: 'sha256' | 'sha512' = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

export function randomBytes(size: number, seed = 1): Buffer {
  const bytes = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  return bytes;
}

/** Streams `bytes` in chunks, yielding to the event loop between them; `failAfter` errors after that many bytes. */
export function chunks(bytes: Buffer, options: { size?: number; failAfter?: number } = {}): Readable {
  const { size = 1000, failAfter } = options;
  async function* generate(): AsyncGenerator<Buffer> {
    for (let offset = 0; offset < bytes.length; offset += size) {
      if (failAfter !== undefined && offset >= failAfter) throw new Error('upstream connection reset');
      await new Promise((resolve) => setImmediate(resolve));
      yield bytes.subarray(offset, offset + size);
    }
  }
  return Readable.from(generate(), { objectMode: false });
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

/** What `writeTo` delivers, copied as it comes (the content reuses its buffers once a write called back). */
export async function readContent(content: BlobContent): Promise<Buffer> {
  const parts: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      parts.push(Buffer.from(chunk));
      done();
    },
  });
  await content.writeTo(sink);
  return Buffer.concat(parts);
}

/** Every file under `dir`, relative to it, sorted; but the owners' heartbeats (`tmp/owners`): bookkeeping, not content. */
export async function filesUnder(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries
      .filter((e) => e.isFile() && basename(e.parentPath) !== 'owners')
      .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
      .sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}
