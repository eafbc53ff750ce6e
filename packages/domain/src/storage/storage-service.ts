import type { PrismaClient } from '@cistern/db';
import type { BlobStore } from '@cistern/storage';
import { countOrphans } from '@cistern/storage-lifecycle';
import { blobTotals, type BlobTotals } from './blob-totals.ts';

/** The whole store at a glance; every size is in bytes. */
export interface StorageSummary {
  blobs: BlobTotals;
  manifests: { count: number };
  remoteArtifacts: { count: number };
  /** What orphan cleanup would remove. */
  orphans: {
    /** Manifests no repository holds: no RepositoryManifest and no RepositoryTag row names them. */
    manifests: number;
    /** Blobs no manifest a repository holds references (once orphan manifests are gone, no ManifestBlob row names them). */
    blobs: number;
    /** Total size of the orphan blobs that are stored, in bytes: what a cleanup with protection time 0 would free on disk. */
    blobBytes: number;
  };
  /** Files of writes in progress or abandoned, in the store's temporary area, and their bytes. */
  temporary: { files: number; bytes: number };
}

/** Store-wide figures for administrators. */
export interface StorageService {
  /** Totals, orphans (by orphan cleanup's rule) and the temporary area, read side by side. */
  summary(): Promise<StorageSummary>;
}

interface CountsRow {
  manifestCount: bigint;
  remoteArtifacts: bigint;
}

/** The StorageService over `prisma` and the blob store's temporary area. */
export function storageService({ prisma, storage }: { prisma: PrismaClient; storage: Pick<BlobStore, 'temporaryUsage'> }): StorageService {
  return {
    summary: async () => {
      const [blobs, rows, orphans, temporary] = await Promise.all([
        // The same totals the storage gauges export (cistern_storage_stored_bytes, cistern_storage_blobs).
        blobTotals(prisma),
        prisma.$queryRaw<CountsRow[]>`
          SELECT (SELECT count(*) FROM "Manifest") AS "manifestCount", (SELECT count(*) FROM "RemoteArtifact") AS "remoteArtifacts"`,
        // Orphan cleanup's own rule, so the figures are what it would remove with no protection time.
        countOrphans(prisma),
        storage.temporaryUsage(),
      ]);
      const row = rows[0] as CountsRow;
      return {
        blobs,
        manifests: { count: Number(row.manifestCount) },
        remoteArtifacts: { count: Number(row.remoteArtifacts) },
        orphans: { manifests: orphans.manifests, blobs: orphans.blobs, blobBytes: orphans.bytesFreed },
        temporary,
      };
    },
  };
}
