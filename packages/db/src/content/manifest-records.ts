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
  // One batch transaction (atomic, no interactive round trips): a manifest row never
  // exists without its links. Every insert skips duplicates, so saving a manifest
  // already stored changes nothing.
  const blobs = uniqueBy(record.blobs, (b) => b.digest).map((b) => ({ digest: b.digest, size: BigInt(b.size), mediaType: b.mediaType }));
  await prisma.$transaction([
    ...(blobs.length > 0 ? [prisma.blob.createMany({ data: blobs, skipDuplicates: true })] : []),
    prisma.manifest.createMany({
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
    }),
    ...(record.blobs.length > 0
      ? [
          prisma.manifestBlob.createMany({
            data: record.blobs.map((b, position) => ({ manifestDigest: record.digest, blobDigest: b.digest, role: b.role, position })),
            skipDuplicates: true,
          }),
        ]
      : []),
    ...(record.children.length > 0
      ? [
          prisma.manifestChild.createMany({
            data: record.children.map((c, position) => ({
              indexDigest: record.digest,
              position,
              childDigest: c.digest,
              mediaType: c.mediaType,
              size: BigInt(c.size),
              platform: c.platform,
            })),
            skipDuplicates: true,
          }),
        ]
      : []),
  ]);
}

function uniqueBy<T>(items: T[], key: (item: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const item of items) if (!seen.has(key(item))) seen.set(key(item), item);
  return [...seen.values()];
}
