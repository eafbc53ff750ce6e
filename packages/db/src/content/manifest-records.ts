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
  /** sha256 over the bytes (for signed schema 1, over the JWS payload). */
  digest: string;
  /** Other digests the manifest is known by (sha512:…), each verified over its bytes. */
  aliases?: readonly string[];
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
export function saveManifest(prisma: PrismaClient, record: ManifestRecord): Promise<void> {
  return saveManifests(prisma, [record]);
}

/** `saveManifest` for many manifests in one round trip (a sync saves those accepted together). */
export async function saveManifests(prisma: PrismaClient, records: readonly ManifestRecord[]): Promise<void> {
  if (records.length === 0) return;
  // One statement, so one round trip and atomic: a manifest row never exists
  // without its links. Foreign keys are checked at the statement's end, when every
  // row of it is in. Every insert skips duplicates, so saving a manifest already
  // stored, or racing another sync saving it, changes nothing but the lastUsedAt
  // of its manifest and blob rows: the saver relies on them from now on (see ContentHold). Rows go in key
  // order, so that concurrent saves sharing new rows lock them in one order and never deadlock.
  const manifests = sortedBy(
    uniqueBy(records, (r) => r.digest),
    (r) => r.digest,
  );
  const blobs = sortedBy(
    uniqueBy(
      manifests.flatMap((r) => r.blobs),
      (b) => b.digest,
    ).map((b) => ({ digest: b.digest, size: b.size, mediaType: b.mediaType })),
    (b) => b.digest,
  );
  const rows = manifests.map((r) => ({
    digest: r.digest,
    mediaType: r.mediaType,
    artifactType: r.artifactType,
    classification: r.classification,
    size: r.raw.byteLength,
    // JSON carries text: the exact bytes travel as base64.
    raw: Buffer.from(r.raw.buffer, r.raw.byteOffset, r.raw.byteLength).toString('base64'),
    subjectDigest: r.subjectDigest,
    configDigest: r.configDigest,
  }));
  const links = manifests.flatMap((r) => r.blobs.map((b, position) => ({ manifestDigest: r.digest, blobDigest: b.digest, role: b.role, position })));
  const aliases = sortedBy(
    uniqueBy(
      records.flatMap((r) => (r.aliases ?? []).map((digest) => ({ digest, manifestDigest: r.digest }))),
      (a) => a.digest,
    ),
    (a) => a.digest,
  );
  const children = manifests.flatMap((r) =>
    r.children.map((c, position) => ({ indexDigest: r.digest, position, childDigest: c.digest, mediaType: c.mediaType, size: c.size, platform: c.platform })),
  );
  await prisma.$executeRaw`
    WITH "blobs" AS (
      INSERT INTO "Blob" ("digest", "size", "mediaType")
      SELECT "digest", "size", "mediaType" FROM jsonb_to_recordset(${JSON.stringify(blobs)}::jsonb) AS b("digest" text, "size" bigint, "mediaType" text)
      ON CONFLICT ("digest") DO UPDATE SET "lastUsedAt" = CURRENT_TIMESTAMP
    ), "manifests" AS (
      INSERT INTO "Manifest" ("digest", "mediaType", "artifactType", "classification", "size", "raw", "subjectDigest", "configDigest")
      SELECT "digest", "mediaType", "artifactType", "classification", "size", decode("raw", 'base64'), "subjectDigest", "configDigest"
      FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
        AS m("digest" text, "mediaType" text, "artifactType" text, "classification" text, "size" bigint, "raw" text, "subjectDigest" text, "configDigest" text)
      ON CONFLICT ("digest") DO UPDATE SET "lastUsedAt" = CURRENT_TIMESTAMP
    ), "links" AS (
      INSERT INTO "ManifestBlob" ("manifestDigest", "blobDigest", "role", "position")
      SELECT "manifestDigest", "blobDigest", "role"::"BlobRole", "position"
      FROM jsonb_to_recordset(${JSON.stringify(links)}::jsonb) AS l("manifestDigest" text, "blobDigest" text, "role" text, "position" integer)
      ON CONFLICT DO NOTHING
    ), "aliases" AS (
      INSERT INTO "ManifestAlias" ("digest", "manifestDigest")
      SELECT "digest", "manifestDigest" FROM jsonb_to_recordset(${JSON.stringify(aliases)}::jsonb) AS a("digest" text, "manifestDigest" text)
      ON CONFLICT DO NOTHING
    )
    INSERT INTO "ManifestChild" ("indexDigest", "position", "childDigest", "mediaType", "size", "platform")
    SELECT "indexDigest", "position", "childDigest", "mediaType", "size", "platform"
    FROM jsonb_to_recordset(${JSON.stringify(children)}::jsonb)
      AS c("indexDigest" text, "position" integer, "childDigest" text, "mediaType" text, "size" bigint, "platform" text)
    ON CONFLICT DO NOTHING`;
}

function uniqueBy<T>(items: readonly T[], key: (item: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const item of items) if (!seen.has(key(item))) seen.set(key(item), item);
  return [...seen.values()];
}

function sortedBy<T>(items: T[], key: (item: T) => string): T[] {
  return items.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
