import type { BlobRole, Prisma, PrismaClient } from '../generated/client.ts';

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
  // One transaction: a manifest row never exists without its links.
  await prisma.$transaction((tx) => insertManifest(tx, record));
}

async function insertManifest(db: Prisma.TransactionClient, record: ManifestRecord): Promise<void> {
  if (record.blobs.length > 0) {
    await db.blob.createMany({
      data: uniqueBy(record.blobs, (b) => b.digest).map((b) => ({ digest: b.digest, size: BigInt(b.size), mediaType: b.mediaType })),
      skipDuplicates: true,
    });
  }
  const created = await db.manifest.createMany({
    data: [
      {
        digest: record.digest,
        mediaType: record.mediaType,
        artifactType: record.artifactType,
        classification: record.classification,
        size: BigInt(record.raw.byteLength),
        raw: Buffer.from(record.raw),
        subjectDigest: record.subjectDigest,
        configDigest: record.configDigest,
      },
    ],
    skipDuplicates: true,
  });
  if (created.count === 0) return;
  // Empty inserts are skipped: each is a round trip, and most manifests have either blobs or children, not both.
  if (record.blobs.length > 0) {
    await db.manifestBlob.createMany({
      data: record.blobs.map((b, position) => ({ manifestDigest: record.digest, blobDigest: b.digest, role: b.role, position })),
      skipDuplicates: true,
    });
  }
  if (record.children.length > 0) {
    await db.manifestChild.createMany({
      data: record.children.map((c, position) => ({
        indexDigest: record.digest,
        position,
        childDigest: c.digest,
        mediaType: c.mediaType,
        size: BigInt(c.size),
        platform: c.platform,
      })),
      skipDuplicates: true,
    });
  }
}

function uniqueBy<T>(items: T[], key: (item: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const item of items) if (!seen.has(key(item))) seen.set(key(item), item);
  return [...seen.values()];
}
