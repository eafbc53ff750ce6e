import type { PrismaClient } from '@cistern/db';
import type { BlobStore } from '@cistern/storage';

/** The whole store at a glance; every size is in bytes. */
export interface StorageSummary {
  blobs: {
    /** Blob rows, stored or not (on-demand and foreign blobs are rows before they are bytes). */
    count: number;
    /** Blob rows whose verified bytes are in storage. */
    storedCount: number;
    /** Total size of the stored blobs, in bytes. */
    storedBytes: number;
  };
  manifests: { count: number };
  remoteArtifacts: { count: number };
  /** What orphan cleanup would remove. */
  orphans: {
    /** Manifests no repository holds: no RepositoryManifest and no RepositoryTag row names them. */
    manifests: number;
    /** Blobs no manifest a repository holds references (once orphan manifests are gone, no ManifestBlob row names them). */
    blobs: number;
    /** Total size of the orphan blobs that are stored, in bytes: what cleanup would free on disk. */
    blobBytes: number;
  };
  /** Files of writes in progress or abandoned, in the store's temporary area, and their bytes. */
  temporary: { files: number; bytes: number };
}

/** Store-wide figures for administrators. */
export interface StorageService {
  /** The database figures are one statement, so one snapshot; the temporary area is read beside it. */
  summary(): Promise<StorageSummary>;
}

interface SummaryRow {
  blobCount: bigint;
  storedCount: bigint;
  storedBytes: bigint;
  orphanBlobs: bigint;
  orphanBlobBytes: bigint;
  manifestCount: bigint;
  orphanManifests: bigint;
  remoteArtifacts: bigint;
}

/** The StorageService over `prisma` and the blob store's temporary area. */
export function storageService({ prisma, storage }: { prisma: PrismaClient; storage: Pick<BlobStore, 'temporaryUsage'> }): StorageService {
  return {
    summary: async () => {
      const [rows, temporary] = await Promise.all([
        // Orphan manifests first: few as a rule, so the blobs only they reference are found by index from them, and
        // the rest of the orphan blobs (those no manifest references) by one anti-join, with no DISTINCT over the
        // digests of every live blob. The two kinds of orphan blob are disjoint: one has no link, the other has some.
        prisma.$queryRaw<SummaryRow[]>`
          WITH orphan_manifest AS MATERIALIZED (
            SELECT m.digest FROM "Manifest" m
             WHERE NOT EXISTS (SELECT 1 FROM "RepositoryManifest" rm WHERE rm."manifestDigest" = m.digest)
               AND NOT EXISTS (SELECT 1 FROM "RepositoryTag" rt WHERE rt."manifestDigest" = m.digest)
          ), orphan_blob AS (
            SELECT b.size, b.stored FROM "Blob" b
             WHERE NOT EXISTS (SELECT 1 FROM "ManifestBlob" mb WHERE mb."blobDigest" = b.digest)
            UNION ALL
            SELECT b.size, b.stored FROM "Blob" b
             WHERE b.digest IN (SELECT mb."blobDigest" FROM "ManifestBlob" mb JOIN orphan_manifest o ON o.digest = mb."manifestDigest")
               AND NOT EXISTS (SELECT 1 FROM "ManifestBlob" mb WHERE mb."blobDigest" = b.digest
                                  AND NOT EXISTS (SELECT 1 FROM orphan_manifest o WHERE o.digest = mb."manifestDigest"))
          ), blobs AS (
            SELECT count(*) AS "blobCount", count(*) FILTER (WHERE stored) AS "storedCount",
                   COALESCE(sum(size) FILTER (WHERE stored), 0)::bigint AS "storedBytes"
              FROM "Blob"
          ), orphans AS (
            SELECT count(*) AS "orphanBlobs", COALESCE(sum(size) FILTER (WHERE stored), 0)::bigint AS "orphanBlobBytes" FROM orphan_blob
          )
          SELECT blobs.*, orphans.*,
                 (SELECT count(*) FROM "Manifest") AS "manifestCount",
                 (SELECT count(*) FROM orphan_manifest) AS "orphanManifests",
                 (SELECT count(*) FROM "RemoteArtifact") AS "remoteArtifacts"
            FROM blobs, orphans`,
        storage.temporaryUsage(),
      ]);
      const row = rows[0] as SummaryRow;
      return {
        blobs: { count: Number(row.blobCount), storedCount: Number(row.storedCount), storedBytes: Number(row.storedBytes) },
        manifests: { count: Number(row.manifestCount) },
        remoteArtifacts: { count: Number(row.remoteArtifacts) },
        orphans: { manifests: Number(row.orphanManifests), blobs: Number(row.orphanBlobs), blobBytes: Number(row.orphanBlobBytes) },
        temporary,
      };
    },
  };
}
