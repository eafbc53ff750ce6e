import { Prisma, type PrismaClient } from '@cistern/db';
import type { BlobStore } from '@cistern/storage';
import { deleteFiles } from './blob-files.ts';
import { lockUntouched } from './lock-untouched.ts';

/** Which blobs a release lets go, and what becomes of their rows. */
export interface BlobRelease {
  /** The rule a blob (alias given) must meet, checked again under lock before anything changes. */
  releasable: (b: string) => Prisma.Sql;
  /** Rows touched (lastUsedAt) at or after it are protected (see `protectionCutoff`). */
  cutoff: Prisma.Sql;
  /** Orphan cleanup deletes the rows (and their remote artifacts); a reclaim keeps them, not stored, to fetch again. */
  rows: 'delete' | 'keep';
}

/** What one release let go. Bytes are of files that were stored. */
export interface ReleasedBlobs {
  blobs: number;
  /** Remote-artifact records that went with deleted rows (0 when rows are kept). */
  remoteArtifacts: number;
  bytesFreed: number;
}

interface MarkedRow {
  digest: string;
  size: bigint;
  stored: boolean;
}

/**
 * Lets the files of `digests` go (and, for cleanup, their rows) in two steps,
 * so that a crash at any point leaves rows that tell the truth: first the
 * rows are marked not stored (committed); then, under their locks again and
 * checked again with a fresh statement, the files are unlinked and (cleanup)
 * the rows deleted. A crash after the unlink leaves a row "not stored"
 * without a file, which is what it says; a crash before the last step at
 * worst a row "not stored" beside its file. Rows a writer holds are skipped
 * (SKIP LOCKED). Rejects when the database or the store does.
 */
export async function releaseBlobs(prisma: PrismaClient, storage: BlobStore, release: BlobRelease, digests: string[]): Promise<ReleasedBlobs> {
  const storedOnly = release.rows === 'keep' ? Prisma.sql`AND "stored"` : Prisma.empty;
  const marked = await prisma.$transaction(async (tx) => {
    const locked = await lockUntouched(tx, 'Blob', digests, release.cutoff, storedOnly);
    if (locked.length === 0) return [];
    const rows = await tx.$queryRaw<MarkedRow[]>`
      SELECT b."digest", b."size", b."stored" FROM "Blob" b WHERE b."digest" = ANY(${locked}::text[]) AND ${release.releasable('b')}`;
    await tx.$executeRaw`UPDATE "Blob" SET "stored" = false WHERE "digest" = ANY(${rows.map((row) => row.digest)}::text[])`;
    return rows;
  });
  if (marked.length === 0) return { blobs: 0, remoteArtifacts: 0, bytesFreed: 0 };
  const released = await prisma.$transaction(
    async (tx) => {
      const locked = await lockUntouched(
        tx,
        'Blob',
        marked.map((row) => row.digest),
        release.cutoff,
        Prisma.sql`AND NOT "stored"`,
      );
      const rows = await tx.$queryRaw<{ digest: string; artifacts: bigint }[]>`
        SELECT b."digest", (SELECT count(*) FROM "RemoteArtifact" ra WHERE ra."blobDigest" = b."digest") AS "artifacts"
        FROM "Blob" b WHERE b."digest" = ANY(${locked}::text[]) AND ${release.releasable('b')}`;
      const gone = rows.map((row) => row.digest);
      // A file may exist though the row said "not stored" (a writer stopped between its rename and its mark).
      await deleteFiles(storage, gone);
      if (release.rows === 'delete') await tx.$executeRaw`DELETE FROM "Blob" WHERE "digest" = ANY(${gone}::text[])`;
      return rows;
    },
    { timeout: 60_000 },
  );
  const gone = new Set(released.map((row) => row.digest));
  await restoreStored(
    prisma,
    storage,
    marked.filter((row) => row.stored && !gone.has(row.digest)).map((row) => row.digest),
  );
  const wasStored = new Map(marked.map((row) => [row.digest, row]));
  let bytesFreed = 0;
  for (const digest of gone) if (wasStored.get(digest)?.stored) bytesFreed += Number(wasStored.get(digest)?.size ?? 0);
  return {
    blobs: gone.size,
    remoteArtifacts: release.rows === 'delete' ? released.reduce((n, row) => n + Number(row.artifacts), 0) : 0,
    bytesFreed,
  };
}

/**
 * Rows marked but not released (needed again since the mark: touched, referenced, kept by a version or a pin; or
 * skipped while another writer held them) were stored and may be again. Each is locked, waiting for any holder to
 * finish, and marked stored only if its file is really there: a holder that unlinked it and then rolled back leaves
 * the row truthfully "not stored", to be fetched again.
 */
async function restoreStored(prisma: PrismaClient, storage: BlobStore, digests: string[]): Promise<void> {
  if (digests.length === 0) return;
  await prisma.$transaction(
    async (tx) => {
      const locked = await tx.$queryRaw<{ digest: string }[]>`
        SELECT "digest" FROM "Blob" WHERE "digest" = ANY(${digests}::text[]) AND NOT "stored" ORDER BY "digest" FOR UPDATE`;
      const present: string[] = [];
      for (const { digest } of locked) if (await storage.exists(digest)) present.push(digest);
      if (present.length > 0) await tx.$executeRaw`UPDATE "Blob" SET "stored" = true WHERE "digest" = ANY(${present}::text[])`;
    },
    { timeout: 60_000 },
  );
}
