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
        // Live manifests are those a membership row names; live blobs those a live manifest references.
        // Each set is built once and anti-joined, so the cost is a few scans whatever the number of rows.
        prisma.$queryRaw<SummaryRow[]>`
          WITH live_manifest AS (
            SELECT "manifestDigest" AS digest FROM "RepositoryManifest"
             UNION
            SELECT "manifestDigest" FROM "RepositoryTag"
          ), live_blob AS (
            SELECT DISTINCT mb."blobDigest" AS digest FROM "ManifestBlob" mb JOIN live_manifest l ON l.digest = mb."manifestDigest"
          ), blobs AS (
            SELECT count(*) AS "blobCount",
                   count(*) FILTER (WHERE b.stored) AS "storedCount",
                   COALESCE(sum(b.size) FILTER (WHERE b.stored), 0)::bigint AS "storedBytes",
                   count(*) FILTER (WHERE l.digest IS NULL) AS "orphanBlobs",
                   COALESCE(sum(b.size) FILTER (WHERE b.stored AND l.digest IS NULL), 0)::bigint AS "orphanBlobBytes"
              FROM "Blob" b LEFT JOIN live_blob l ON l.digest = b.digest
          ), manifests AS (
            SELECT count(*) AS "manifestCount", count(*) FILTER (WHERE l.digest IS NULL) AS "orphanManifests"
              FROM "Manifest" m LEFT JOIN live_manifest l ON l.digest = m.digest
          )
          SELECT blobs.*, manifests.*, (SELECT count(*) FROM "RemoteArtifact") AS "remoteArtifacts" FROM blobs, manifests`,
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
