/**
 * Orphan cleanup at scale: a store of --blobs orphan Blob rows (every
 * --file-every-th with a small file on disk) linked from --blobs/2 orphan
 * manifests, plus --kept referenced ones that must survive. Prints the time,
 * rows per second and peak RSS of a dry run and of the real run, and checks
 * the real run removed exactly what the dry run counted.
 *
 *   npx tsx bench/cleanup/main.ts [--blobs 100000] [--file-every 10] [--kept 10000]
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openDatabase } from '@cistern/db';
import { FilesystemBlobStore } from '@cistern/storage';
import { cleanupOrphans } from '@cistern/storage-lifecycle';
import { createTestDatabase, makeTempDir, removeDir } from '@cistern/testkit';

const { values } = parseArgs({
  options: { blobs: { type: 'string', default: '100000' }, 'file-every': { type: 'string', default: '10' }, kept: { type: 'string', default: '10000' } },
});
const blobs = Number(values.blobs);
const fileEvery = Number(values['file-every']);
const kept = Number(values.kept);

/** The kernel's peak RSS of this process since the last reset (MiB). */
async function peakRssMiB(): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile('/proc/self/status', 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

async function resetPeakRss(): Promise<void> {
  await writeFile('/proc/self/clear_refs', '5');
}

const testDb = await createTestDatabase();
const db = await openDatabase({ databaseUrl: testDb.url, dataDir: '/nonexistent', allowEmbedded: false });
const dir = await makeTempDir('bench-cleanup');
const storage = new FilesystemBlobStore(dir);
await storage.assertWritable();
const prisma = db.prisma;
try {
  // Digests are sha256 of the row number: the files written for some of them hold those very bytes.
  const t0 = performance.now();
  await prisma.$executeRaw`
    INSERT INTO "Blob" ("digest", "size", "stored", "lastUsedAt")
    SELECT 'sha256:' || encode(sha256(convert_to(i::text, 'UTF8')), 'hex'), length(i::text), i % ${fileEvery}::int = 0, CURRENT_TIMESTAMP - interval '2 days'
    FROM generate_series(1, ${blobs + kept}::int) AS i`;
  await prisma.$executeRaw`
    INSERT INTO "Manifest" ("digest", "mediaType", "classification", "size", "raw", "lastUsedAt")
    SELECT 'sha256:' || encode(sha256(convert_to('m' || i::text, 'UTF8')), 'hex'), 'application/vnd.oci.image.manifest.v1+json', 'image', 2, '{}'::bytea,
      CURRENT_TIMESTAMP - interval '2 days'
    FROM generate_series(1, ${(blobs + kept) / 2}::int) AS i`;
  await prisma.$executeRaw`
    INSERT INTO "ManifestBlob" ("manifestDigest", "blobDigest", "role", "position")
    SELECT 'sha256:' || encode(sha256(convert_to('m' || ((i + 1) / 2)::text, 'UTF8')), 'hex'), 'sha256:' || encode(sha256(convert_to(i::text, 'UTF8')), 'hex'),
      'layer', i % 2
    FROM generate_series(1, ${blobs + kept}::int) AS i`;
  // The last `kept` blobs' manifests are in a repository's version 1.
  const repository = await prisma.repository.create({ data: { name: 'kept', latestVersion: 1 } });
  await prisma.$executeRaw`
    INSERT INTO "RepositoryManifest" ("repositoryId", "manifestDigest", "versionAdded")
    SELECT ${repository.id}::uuid, 'sha256:' || encode(sha256(convert_to('m' || i::text, 'UTF8')), 'hex'), 1
    FROM generate_series(${blobs / 2 + 1}::int, ${(blobs + kept) / 2}::int) AS i`;
  for (let i = fileEvery; i <= blobs + kept; i += fileEvery) {
    const bytes = Buffer.from(String(i));
    const hex = createHash('sha256').update(bytes).digest('hex');
    await mkdir(join(dir, 'blobs', 'sha256', hex.slice(0, 2)), { recursive: true });
    await writeFile(join(dir, 'blobs', 'sha256', hex.slice(0, 2), hex), bytes);
  }
  console.log(
    `store: ${blobs + kept} blob rows (${(blobs + kept) / fileEvery} files), ${(blobs + kept) / 2} manifests, ${kept} blobs referenced; built in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );

  const rows = [];
  for (const dryRun of [true, false]) {
    await resetPeakRss();
    const start = performance.now();
    let manifestsDone = 0;
    const figures = await cleanupOrphans(prisma, storage, {
      protectionTimeMinutes: 1440,
      dryRun,
      onProgress: (so) => {
        if (so.blobs === 0) manifestsDone = performance.now() - start;
      },
    });
    const seconds = (performance.now() - start) / 1000;
    rows.push({
      run: dryRun ? 'dry run' : 'cleanup',
      ...figures,
      seconds: seconds.toFixed(2),
      'manifest phase s': (manifestsDone / 1000).toFixed(2),
      'rows/s': Math.round((figures.manifests + figures.blobs) / seconds),
      'peak RSS MiB': (await peakRssMiB()).toFixed(0),
    });
  }
  console.table(rows);
  const [dry, real] = rows;
  const left = await prisma.blob.count();
  const same = dry?.blobs === real?.blobs && dry?.manifests === real?.manifests && dry?.bytesFreed === real?.bytesFreed;
  console.log(`dry run counted what the cleanup removed: ${same ? 'yes' : 'NO'}; blob rows left: ${left} (expected ${kept})`);
  if (!same || left !== kept) process.exitCode = 1;
} finally {
  await db.close();
  await testDb.drop();
  await removeDir(dir);
}
