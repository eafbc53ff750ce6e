import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { openDatabase, type Database, type PrismaClient } from '@cistern/db';
import { FilesystemBlobStore } from '@cistern/storage';
import { cleanupOrphans } from '@cistern/storage-lifecycle';
import { json, OCI_CONFIG, OCI_LAYER_GZIP, OCI_MANIFEST, startFaultProxy, waitFor, type FaultProxy } from '@cistern/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSyncFixture, type SyncFixture } from './processes.ts';

// Orphan cleanup with protection time 0 beside a sync in another process, and
// with that sync's worker SIGKILLed in between: nothing the version the sync
// writes afterwards needs is ever removed. The sync reuses the blobs of an
// orphaned image, the case a protection time alone would not cover.
const SHARED_BYTES = 1024 * 1024;
const SLOW_BYTES = 8 * 1024 * 1024;

let fixture: SyncFixture;
let proxy: FaultProxy;
let db: pg.Client;
let database: Database;
let prisma: PrismaClient;
let storage: FilesystemBlobStore;

beforeAll(async () => {
  fixture = await startSyncFixture();
  proxy = await startFaultProxy(fixture.upstream.url);
  db = new pg.Client({ connectionString: fixture.databaseUrl });
  await db.connect();
  database = await openDatabase({ databaseUrl: fixture.databaseUrl, dataDir: fixture.dataDir, allowEmbedded: false });
  prisma = database.prisma;
  storage = new FilesystemBlobStore(path.join(fixture.dataDir, 'storage'));
});
afterAll(async () => {
  await db?.end();
  await database?.close();
  await storage?.close();
  await proxy?.stop();
  await fixture?.stop();
});

/** Adds an image of the given layers under `tag` to the synthetic upstream; its manifest and blob digests. */
function image(repo: string, tag: string, layers: Buffer[]): { digest: string; blobs: string[] } {
  const { upstream } = fixture;
  const config = json({ architecture: 'amd64', os: 'linux', tag, repo });
  const blobs = [upstream.addBlob(repo, config), ...layers.map((layer) => upstream.addBlob(repo, layer))];
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: blobs[0], size: config.length },
    layers: layers.map((layer, i) => ({ mediaType: OCI_LAYER_GZIP, digest: blobs[i + 1], size: layer.length })),
  };
  return { digest: upstream.addManifest(repo, json(manifest), OCI_MANIFEST, [tag]), blobs };
}

async function created(url: string, body: unknown): Promise<Record<string, unknown>> {
  const reply = await fixture.cistern.call('POST', url, body);
  if (reply.status >= 300) throw new Error(`POST ${url}: ${reply.status} ${JSON.stringify(reply.body)}`);
  return reply.body;
}

/** Runs an orphan cleanup through the API with protection 0 and answers its result. */
async function cleanup(): Promise<Record<string, number>> {
  const { task } = (await created('/orphans/cleanup', { protectionTimeMinutes: 0 })) as { task: { id: string } };
  const done = await fixture.cistern.waitTask(task.id, (t) => ['completed', 'failed'].includes(t.state), 60_000, 100);
  expect(done.state, JSON.stringify(done.error)).toBe('completed');
  return (done as unknown as { result: Record<string, number> }).result;
}

/** Whether the blob's row says stored and its file holds `size` bytes. */
async function storedWhole(digest: string): Promise<{ stored: boolean; bytes: number | undefined }> {
  const { rows } = await db.query<{ stored: boolean }>('SELECT "stored" FROM "Blob" WHERE "digest" = $1', [digest]);
  const file = path.join(fixture.dataDir, 'storage', 'blobs', 'sha256', digest.slice(7, 9), digest.slice(7));
  return { stored: rows[0]?.stored ?? false, bytes: (await stat(file).catch(() => undefined))?.size };
}

describe('orphan cleanup beside a sync', () => {
  it('never removes what the sync relies on, before or after its worker is killed', { timeout: 240_000 }, async () => {
    const { cistern } = fixture;
    const shared = [randomBytes(SHARED_BYTES), randomBytes(SHARED_BYTES)];
    // An image mirrored, then removed: its manifest and blobs become orphans.
    const old = image('team/old', 'v1', shared);
    const remoteOld = await created('/remotes', { name: 'old', url: fixture.upstream.url, upstreamName: 'team/old' });
    const repoOld = await created('/repositories', { name: 'old', remote: remoteOld.id, retainVersions: 1 });
    const first = (await created(`/repositories/${String(repoOld.id)}/sync`, { mirror: true })) as { task: { id: string } };
    expect((await cistern.waitTask(first.task.id, (t) => t.state === 'completed', 60_000)).state).toBe('completed');
    const removal = (await created(`/repositories/${String(repoOld.id)}/remove`, { digests: [old.digest] })) as { task: { id: string } };
    expect((await cistern.waitTask(removal.task.id, (t) => t.state === 'completed', 60_000)).state).toBe('completed');

    // A sync of another image with the same two layers and one more, whose download stalls halfway.
    const slow = randomBytes(SLOW_BYTES);
    const fresh = image('team/new', 'v1', [...shared, slow]);
    proxy.inject({ method: 'GET', kind: 'blob', pathIncludes: (fresh.blobs[3] as string).slice(7), fault: { type: 'stall', ms: 10 * 60_000 }, times: 1 });
    const remoteNew = await created('/remotes', { name: 'new', url: proxy.url, upstreamName: 'team/new' });
    const repoNew = await created('/repositories', { name: 'new', remote: remoteNew.id });
    const sync = (await created(`/repositories/${String(repoNew.id)}/sync`, { mirror: true })) as { task: { id: string } };
    await waitFor('the sync saved its manifest', async () => (await db.query('SELECT 1 FROM "Manifest" WHERE "digest" = $1', [fresh.digest])).rowCount === 1);

    // While it runs: the orphaned manifest goes, the layers the sync now relies on stay.
    const during = await cleanup();
    expect(during.manifests).toBe(1);
    for (const layer of fresh.blobs.slice(1, 3)) expect(await storedWhole(layer)).toEqual({ stored: true, bytes: SHARED_BYTES });

    // Killed without a word: its hold stops being renewed but protects until it expires (a minute at most after its
    // last renewal), so this cleanup runs at once, in this process, not after a worker start whose time depends on the
    // machine's load. The next worker resumes the sync.
    cistern.worker.child.kill('SIGKILL');
    await cistern.worker.exited;
    await cleanupOrphans(prisma, storage, { protectionTimeMinutes: 0, dryRun: false });
    await cistern.restartWorker();
    for (const layer of fresh.blobs.slice(1, 3)) expect(await storedWhole(layer)).toEqual({ stored: true, bytes: SHARED_BYTES });

    const done = await cistern.waitTask(sync.task.id, (t) => ['completed', 'failed'].includes(t.state), 180_000, 250);
    expect(done.state, JSON.stringify(done.error)).toBe('completed');
    await cleanup();
    // Everything the version written after all this needs is there, whole.
    const sizes = [undefined, SHARED_BYTES, SHARED_BYTES, SLOW_BYTES];
    for (const [i, blob] of fresh.blobs.entries()) {
      const kept = await storedWhole(blob);
      expect(kept.stored, blob).toBe(true);
      if (sizes[i] !== undefined) expect(kept.bytes).toBe(sizes[i]);
    }
    const { rows } = await db.query<{ n: string }>(
      `SELECT count(*) AS n FROM "RepositoryManifest" rm JOIN "Manifest" m ON m."digest" = rm."manifestDigest"
       WHERE rm."repositoryId" = $1 AND rm."versionRemoved" IS NULL`,
      [repoNew.id],
    );
    expect(Number(rows[0]?.n)).toBe(1);
    // And the orphan's own config blob went.
    expect((await db.query('SELECT 1 FROM "Blob" WHERE "digest" = $1', [old.blobs[0]])).rowCount).toBe(0);
  });
});
