import type { BlobRole, PrismaClient } from '../generated/client.ts';

export interface BlobReference {
  digest: string;
  size: number;
  mediaType: string;
  role: BlobRole;
}

export interface IndexEntry {
  digest: string;
  size: number;
  mediaType: string;
  platform: string | null;
}

export interface ManifestRecord {
  digest: string;
  mediaType: string;
  artifactType: string | null;
  classification: string;
  raw: Uint8Array;
  subjectDigest: string | null;
  configDigest: string | null;
  blobs: BlobReference[];
  children: IndexEntry[];
}

/**
 * Stores a manifest and its links once, shared by every repository (content is
 * deduplicated by digest). Blob rows are created as not yet stored; the caller
 * marks them stored once their bytes are verified on disk.
 */
export async function saveManifest(prisma: PrismaClient, record: ManifestRecord): Promise<void> {
  // One statement, so one round trip (a batch transaction took six) and atomic: a
  // manifest row never exists without its links. Foreign keys are checked at the
  // statement's end, when every row of it is in. Every insert skips duplicates, so
  // saving a manifest already stored, or racing another sync saving it, changes nothing.
  // Sorted, so that concurrent saves sharing new blobs lock their rows in one order and never deadlock.
  const blobs = uniqueBy(record.blobs, (b) => b.digest)
    .map((b) => ({ digest: b.digest, size: b.size, mediaType: b.mediaType }))
    .sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
  const links = record.blobs.map((b, position) => ({ blobDigest: b.digest, role: b.role, position }));
  const children = record.children.map((c, position) => ({ position, childDigest: c.digest, mediaType: c.mediaType, size: c.size, platform: c.platform }));
  await prisma.$executeRaw`
    WITH "blobs" AS (
      INSERT INTO "Blob" ("digest", "size", "mediaType")
      SELECT "digest", "size", "mediaType" FROM jsonb_to_recordset(${JSON.stringify(blobs)}::jsonb) AS b("digest" text, "size" bigint, "mediaType" text)
      ON CONFLICT DO NOTHING
    ), "manifest" AS (
      INSERT INTO "Manifest" ("digest", "mediaType", "artifactType", "classification", "size", "raw", "subjectDigest", "configDigest")
      VALUES (${record.digest}, ${record.mediaType}, ${record.artifactType}, ${record.classification}, ${record.raw.byteLength}, ${Buffer.from(record.raw)},
              ${record.subjectDigest}, ${record.configDigest})
      ON CONFLICT DO NOTHING
    ), "links" AS (
      INSERT INTO "ManifestBlob" ("manifestDigest", "blobDigest", "role", "position")
      SELECT ${record.digest}, "blobDigest", "role"::"BlobRole", "position"
      FROM jsonb_to_recordset(${JSON.stringify(links)}::jsonb) AS l("blobDigest" text, "role" text, "position" integer)
      ON CONFLICT DO NOTHING
    )
    INSERT INTO "ManifestChild" ("indexDigest", "position", "childDigest", "mediaType", "size", "platform")
    SELECT ${record.digest}, "position", "childDigest", "mediaType", "size", "platform"
    FROM jsonb_to_recordset(${JSON.stringify(children)}::jsonb) AS c("position" integer, "childDigest" text, "mediaType" text, "size" bigint, "platform" text)
    ON CONFLICT DO NOTHING`;
}

function uniqueBy<T>(items: T[], key: (item: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const item of items) if (!seen.has(key(item))) seen.set(key(item), item);
  return [...seen.values()];
}
