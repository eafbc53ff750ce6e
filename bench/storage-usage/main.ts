/**
 * Times the storage usage figures on a store of many rows: GET /api/v1/storage
 * and GET /api/v1/repositories/{id} (a large and a small repository), through
 * the running API.
 *
 *   npx tsx bench/storage-usage/main.ts [--blobs 100000] [--repos 20] [--runs 5] [--keep]
 *
 * The content is rows only (no blob files), inserted by generate_series: half as
 * many manifests as blobs, each with its own config and layer plus one of 200
 * shared base layers; one large repository holds half of the manifests, and
 * nine in ten of them are spread over the others; one in ten blobs is not
 * stored (on demand); the rest are orphans. --keep leaves the database to
 * EXPLAIN in and prints its URL. Needs PostgreSQL and Redis on 127.0.0.1, as
 * the tests do.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { startApi } from '@cistern/api';
import { createLogger, envSchema } from '@cistern/config';
import { openDatabase, type PrismaClient } from '@cistern/db';
import { createRedisWatch } from '@cistern/queue';
import { FilesystemBlobStore } from '@cistern/storage';
import { createTestDatabase, createTestRedisPrefix, makeTempDir, removeDir, TEST_REDIS_URL } from '@cistern/testkit';

const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';

/** A 64-hex digest of `seed || n`, so every table's keys are distinct. */
const hex = (seed: string, n: string) => `'sha256:' || md5('${seed}' || ${n}) || md5('${seed}2' || ${n})`;

/** Inserts the content in a few set-based statements; answers the ids of the large and of one small repository. */
async function fill(prisma: PrismaClient, blobs: number, repos: number): Promise<{ large: string; small: string }> {
  const manifests = Math.floor(blobs / 2);
  const statements = [
    `INSERT INTO "Blob" (digest, size, "mediaType", stored)
     SELECT ${hex('b', 'i')}, 100 + (i::bigint * 7919) % 10000000, 'application/octet-stream', i % 10 <> 5 FROM generate_series(1, ${blobs}) i`,
    `INSERT INTO "Manifest" (digest, "mediaType", classification, size, raw)
     SELECT ${hex('m', 'j')}, 'application/vnd.oci.image.manifest.v1+json', 'image', 20, convert_to('{"m":' || j || '}', 'UTF8')
       FROM generate_series(1, ${manifests}) j`,
    // Config j, layer manifests + j, and base layer j % 200 + 1, shared by every 200th manifest.
    `INSERT INTO "ManifestBlob" ("manifestDigest", "blobDigest", role, position)
     SELECT ${hex('m', 'j')}, ${hex('b', 'b.i')}, b.role::"BlobRole", b.position FROM generate_series(1, ${manifests}) j,
       LATERAL (VALUES (j, 'config', 0), (${manifests} + j, 'layer', 1), (j % 200 + 1, 'layer', 2)) AS b(i, role, position)
      WHERE b.i <= ${blobs}`,
    `INSERT INTO "Repository" (id, name, "latestVersion", "updatedAt")
     SELECT ('00000000-0000-4000-8000-' || lpad(r::text, 12, '0'))::uuid, 'repo-' || r, 3, now() FROM generate_series(0, ${repos - 1}) r`,
    `INSERT INTO "RepositoryVersion" (id, "repositoryId", number)
     SELECT gen_random_uuid(), id, v FROM "Repository", generate_series(0, 3) v`,
    // Repository 0 holds manifests 1..manifests/2; manifest j (j % 10 <> 0) is in repository j % (repos - 1) + 1;
    // one in ten rows left the latest version (still in version 2).
    `INSERT INTO "RepositoryManifest" ("repositoryId", "manifestDigest", "versionAdded", "versionRemoved")
     SELECT ('00000000-0000-4000-8000-' || lpad(r::text, 12, '0'))::uuid, ${hex('m', 'j')}, 1 + j % 3, CASE WHEN j % 10 = 1 THEN 3 END
       FROM generate_series(1, ${manifests}) j,
       LATERAL (SELECT 0 AS r WHERE j <= ${manifests / 2} UNION ALL SELECT j % ${repos - 1} + 1 WHERE j % 10 <> 0) AS r`,
    `INSERT INTO "RepositoryTag" ("repositoryId", name, "manifestDigest", "versionAdded", "versionRemoved")
     SELECT "repositoryId", 'tag-' || id, "manifestDigest", "versionAdded", "versionRemoved" FROM "RepositoryManifest"
      WHERE "repositoryId" <> '00000000-0000-4000-8000-000000000000'`,
    `INSERT INTO "Remote" (id, name, url, "upstreamName", "updatedAt")
     VALUES ('00000000-0000-4000-8000-00000000ffff', 'upstream', 'https://registry.example.test', 'app', now())`,
    `INSERT INTO "RemoteArtifact" (id, "blobDigest", "remoteId", "upstreamName")
     SELECT gen_random_uuid(), digest, '00000000-0000-4000-8000-00000000ffff', 'app' FROM "Blob" WHERE NOT stored`,
    // As autovacuum would by the time anyone asks: the planner sees the tables' sizes.
    `VACUUM ANALYZE`,
  ];
  for (const sql of statements) await prisma.$executeRawUnsafe(sql);
  return { large: '00000000-0000-4000-8000-000000000000', small: '00000000-0000-4000-8000-000000000001' };
}

async function timed(url: string, runs: number): Promise<{ ms: number; body: unknown }> {
  const times: number[] = [];
  let body: unknown;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const response = await fetch(url, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    body = await response.json();
    times.push(performance.now() - start);
    if (!response.ok) throw new Error(`${url}: ${response.status} ${JSON.stringify(body)}`);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)] as number, body };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      blobs: { type: 'string', default: '100000' },
      repos: { type: 'string', default: '20' },
      runs: { type: 'string', default: '5' },
      keep: { type: 'boolean' },
    },
  });
  const [blobs, repos, runs] = [Number(values.blobs), Number(values.repos), Number(values.runs)];
  const scratch = await makeTempDir('bench-usage');
  const testDb = await createTestDatabase();
  const redis = createTestRedisPrefix();
  const db = await openDatabase({ databaseUrl: testDb.url, dataDir: scratch, allowEmbedded: false });
  try {
    const fillStart = performance.now();
    const ids = await fill(db.prisma, blobs, repos);
    console.log(`filled ${blobs} blobs, ${Math.floor(blobs / 2)} manifests, ${repos} repositories in ${((performance.now() - fillStart) / 1000).toFixed(1)} s`);
    const storage = new FilesystemBlobStore(`${scratch}/storage`);
    await storage.assertWritable();
    const config = envSchema.parse({
      DATABASE_URL: testDb.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: redis.prefix,
      DATA_DIR: scratch,
      CISTERN_ADMIN_TOKEN: ADMIN_TOKEN,
      LOG_LEVEL: 'warn',
    });
    const logger = createLogger(config);
    const resources = {
      config,
      logger,
      db,
      storage,
      secretKey: randomBytes(32),
      redisWatch: createRedisWatch(logger, config.redisUrl),
      close: async () => undefined,
    };
    const api = await startApi(resources, { port: 0 });
    try {
      for (const [name, path] of [
        ['GET /api/v1/storage', '/api/v1/storage'],
        ['GET /api/v1/repositories/{large}', `/api/v1/repositories/${ids.large}`],
        ['GET /api/v1/repositories/{small}', `/api/v1/repositories/${ids.small}`],
      ] as const) {
        const { ms, body } = await timed(api.url + path, runs);
        const shown = 'usage' in (body as object) ? (body as { usage: unknown }).usage : body;
        console.log(`${name.padEnd(34)} median of ${runs}: ${ms.toFixed(1).padStart(8)} ms  ${JSON.stringify(shown)}`);
      }
    } finally {
      await api.close();
    }
  } finally {
    await db.close();
    await redis.cleanup();
    await removeDir(scratch);
    if (values.keep) console.log(`kept ${testDb.url}`);
    else await testDb.drop();
  }
}

await main();
