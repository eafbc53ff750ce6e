import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { openDatabase, type Database } from '@cistern/db';
import { FilesystemBlobStore } from '@cistern/storage';
import { createTestDatabase, makeTempDir, removeDir, startSyntheticUpstream, type SyntheticUpstream, type TestDatabase } from '@cistern/testkit';
import { UpstreamClient } from '@cistern/upstream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ingestBlob, StoredMarks } from '../src/index.ts';

const REPO = 'lib/ingest';
let testDb: TestDatabase;
let db: Database;
let dir: string;
let store: FilesystemBlobStore;
let upstream: SyntheticUpstream;
let client: UpstreamClient;

beforeAll(async () => {
  testDb = await createTestDatabase();
  db = await openDatabase({ databaseUrl: testDb.url, dataDir: '/nonexistent', allowEmbedded: false });
  dir = await makeTempDir('ingest');
  store = new FilesystemBlobStore(dir);
  await store.assertWritable();
  upstream = await startSyntheticUpstream();
  client = new UpstreamClient({ url: upstream.url, upstreamName: REPO, retryBaseMs: 10, retryMaxMs: 50 });
});

afterEach(() => upstream.intercept(undefined));

afterAll(async () => {
  await upstream?.stop();
  await db?.close();
  await testDb?.drop();
  await removeDir(dir);
});

/** A blob the upstream serves, with its Blob row not yet stored (as a sync or on-demand record leaves it). */
async function upstreamBlob(size = 300_000): Promise<{ digest: string; size: number; bytes: Buffer }> {
  const bytes = randomBytes(size);
  const digest = upstream.addBlob(REPO, bytes);
  await db.prisma.blob.create({ data: { digest, size: BigInt(size), stored: false } });
  return { digest, size, bytes };
}

/** Serves other bytes of the same length under `digest`. */
function corrupt(digest: string, size: number): void {
  const other = randomBytes(size);
  upstream.intercept((req, res) => {
    if (req.method !== 'GET' || !req.url?.endsWith(`/blobs/${digest}`)) return false;
    res.writeHead(200, { 'content-length': size, 'content-type': 'application/octet-stream' }).end(other);
    return true;
  });
}

async function storedRow(digest: string): Promise<boolean | undefined> {
  return (await db.prisma.blob.findUnique({ where: { digest } }))?.stored;
}

async function read(digest: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const content = await store.open(digest);
  await content.writeTo(new Writable({ write: (chunk: Buffer, _e, done) => done(void chunks.push(Buffer.from(chunk))) }));
  return Buffer.concat(chunks);
}

/** A stand-in for the registry's tee: records every byte on its way to the store. */
function recording(seen: Buffer[]): (store: Writable) => Writable {
  return (target) =>
    new Writable({
      write: (chunk: Buffer, _e, done) => {
        seen.push(Buffer.from(chunk));
        target.write(chunk, done);
      },
      final: (done) => void target.end(done),
      destroy: (error, done) => {
        target.destroy(error ?? undefined);
        done(error);
      },
    });
}

describe('ingestBlob', () => {
  it('stores the verified bytes, then marks the Blob row stored', async () => {
    const blob = await upstreamBlob();
    await ingestBlob(client, blob, { store, marks: new StoredMarks(db.prisma) });
    expect((await read(blob.digest)).equals(blob.bytes)).toBe(true);
    expect(await storedRow(blob.digest)).toBe(true);
  });

  it('keeps nothing and marks nothing when the bytes do not hash to the digest', async () => {
    const blob = await upstreamBlob();
    corrupt(blob.digest, blob.size);
    await expect(ingestBlob(client, blob, { store, marks: new StoredMarks(db.prisma) })).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect(await store.exists(blob.digest)).toBe(false);
    expect(await storedRow(blob.digest)).toBe(false);
  });

  it('hands every byte through `through` on its way to the store', async () => {
    const blob = await upstreamBlob();
    const seen: Buffer[] = [];
    await ingestBlob(client, blob, { store, marks: new StoredMarks(db.prisma) }, { through: recording(seen) });
    expect(Buffer.concat(seen).equals(blob.bytes)).toBe(true);
    expect(await storedRow(blob.digest)).toBe(true);
  });

  it('verifies the digest in the client too when bytes pass through something first', async () => {
    const blob = await upstreamBlob();
    corrupt(blob.digest, blob.size);
    const failure = ingestBlob(client, blob, { store, marks: new StoredMarks(db.prisma) }, { through: recording([]) });
    await expect(failure).rejects.toMatchObject({ name: 'UpstreamError', code: 'DIGEST_MISMATCH' });
    expect(await store.exists(blob.digest)).toBe(false);
    expect(await storedRow(blob.digest)).toBe(false);
  });

  it('stores nothing when aborted', async () => {
    const blob = await upstreamBlob();
    const abort = new AbortController();
    abort.abort(new Error('canceled'));
    await expect(ingestBlob(client, blob, { store, marks: new StoredMarks(db.prisma) }, { signal: abort.signal })).rejects.toThrow();
    expect(await store.exists(blob.digest)).toBe(false);
    expect(await storedRow(blob.digest)).toBe(false);
  });
});

describe('StoredMarks', () => {
  it('writes marks a batch at a time, and the rest on flush', async () => {
    const a = (await upstreamBlob(10)).digest;
    const b = (await upstreamBlob(10)).digest;
    const c = (await upstreamBlob(10)).digest;
    const marks = new StoredMarks(db.prisma, 2);
    await marks.mark(a);
    expect(await storedRow(a)).toBe(false);
    await marks.mark(b);
    expect([await storedRow(a), await storedRow(b)]).toEqual([true, true]);
    await marks.mark(c);
    expect(await storedRow(c)).toBe(false);
    await marks.flush();
    expect(await storedRow(c)).toBe(true);
  });
});
