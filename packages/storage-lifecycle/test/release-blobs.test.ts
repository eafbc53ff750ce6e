import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { openDatabase, Prisma, type Database } from '@cistern/db';
import { FilesystemBlobStore } from '@cistern/storage';
import { createTestDatabase, makeTempDir, removeDir, type TestDatabase } from '@cistern/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releaseBlobs, type BlobRelease } from '../src/release-blobs.ts';

// The two steps of a release, with a rule that changes its mind between them:
// a sequence read by the rule answers 1 in the first step only, as a blob
// referenced, touched or pinned again between the steps would.

let testDb: TestDatabase;
let db: Database;
let dir: string;
let storage: FilesystemBlobStore;

beforeAll(async () => {
  testDb = await createTestDatabase();
  db = await openDatabase({ databaseUrl: testDb.url, dataDir: '/nonexistent', allowEmbedded: false });
  dir = await makeTempDir('release-blobs');
  storage = new FilesystemBlobStore(dir);
  await storage.assertWritable();
}, 60_000);
afterAll(async () => {
  await db?.close();
  await testDb?.drop();
  await removeDir(dir);
});

/** A blob row, stored and untouched for two days; with its file unless `file` is false. */
async function blob({ file = true } = {}): Promise<string> {
  const bytes = randomBytes(1024);
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  if (file) await storage.put(digest, Readable.from([bytes]), bytes.length);
  await db.prisma.$executeRaw`
    INSERT INTO "Blob" ("digest", "size", "stored", "lastUsedAt") VALUES (${digest}, ${bytes.length}, true, CURRENT_TIMESTAMP - interval '2 days')`;
  return digest;
}

/** A release whose rule holds in its first step only. */
async function changingMind(rows: BlobRelease['rows']): Promise<BlobRelease> {
  const sequence = `flip_${randomBytes(4).toString('hex')}`;
  await db.prisma.$executeRawUnsafe(`CREATE SEQUENCE ${sequence}`);
  return { releasable: () => Prisma.sql`nextval(${sequence}) = 1`, cutoff: Prisma.sql`CURRENT_TIMESTAMP`, rows };
}

const state = async (digest: string) => ({
  stored: (await db.prisma.blob.findUnique({ where: { digest } }))?.stored ?? null,
  file: await storage.exists(digest),
});

describe('releasing blobs in two steps', () => {
  it('lets a releasable blob go: its file and, for cleanup, its row; for a reclaim the row stays, not stored', async () => {
    const [kept, deleted] = [await blob(), await blob()];
    const always = { releasable: () => Prisma.sql`true`, cutoff: Prisma.sql`CURRENT_TIMESTAMP` };
    expect(await releaseBlobs(db.prisma, storage, { ...always, rows: 'keep' }, [kept])).toEqual({ blobs: 1, remoteArtifacts: 0, bytesFreed: 1024 });
    expect(await state(kept)).toEqual({ stored: false, file: false });
    expect(await releaseBlobs(db.prisma, storage, { ...always, rows: 'delete' }, [deleted])).toEqual({ blobs: 1, remoteArtifacts: 0, bytesFreed: 1024 });
    expect(await state(deleted)).toEqual({ stored: null, file: false });
  });

  for (const rows of ['keep', 'delete'] as const) {
    it(`marks a blob needed again between the steps stored again, its file kept (rows: ${rows})`, async () => {
      const digest = await blob();
      expect(await releaseBlobs(db.prisma, storage, await changingMind(rows), [digest])).toEqual({ blobs: 0, remoteArtifacts: 0, bytesFreed: 0 });
      expect(await state(digest)).toEqual({ stored: true, file: true });
    });
  }

  it('leaves a blob needed again "not stored" when its file is gone (another holder unlinked it, then rolled back)', async () => {
    const digest = await blob({ file: false });
    await releaseBlobs(db.prisma, storage, await changingMind('keep'), [digest]);
    expect(await state(digest)).toEqual({ stored: false, file: false });
  });
});
