import type { PrismaClient } from '@cistern/db';

/** A 64-hex digest of `seed || n`, so every table's keys are distinct. */
const hex = (seed: string, n: string) => `'sha256:' || md5('${seed}' || ${n}) || md5('${seed}2' || ${n})`;

/**
 * Inserts the content in a few set-based statements (see bench/storage-usage/main.ts for its shape): `blobs` Blob
 * rows, half as many manifests, `repos` repositories and one remote, `upstream` (id ...ffff); answers the ids of the
 * large and of one small repository.
 */
export async function fillContentRows(prisma: PrismaClient, blobs: number, repos: number): Promise<{ large: string; small: string }> {
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
