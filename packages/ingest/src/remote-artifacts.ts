import type { PrismaClient } from '@cistern/db';

/** Where recorded blobs can be fetched again: a remote and the upstream repository that holds them. */
export interface ArtifactSource {
  remoteId: string;
  upstreamName: string;
}

/**
 * Records `blobs` as remote artifacts of `source` (a foreign layer with its
 * own `urls`), in one statement; a record already there is kept. The
 * registry's on-demand reader fetches a blob that is not stored from these,
 * and a reclaim may drop a stored one's file because of them. The sync and
 * the pull-through cache both record through this.
 */
export async function recordRemoteArtifacts(
  prisma: PrismaClient,
  source: ArtifactSource,
  blobs: readonly { digest: string; urls: readonly string[] }[],
): Promise<void> {
  if (blobs.length === 0) return;
  await prisma.remoteArtifact.createMany({
    data: blobs.map((blob) => ({ blobDigest: blob.digest, remoteId: source.remoteId, upstreamName: source.upstreamName, urls: [...blob.urls] })),
    skipDuplicates: true,
  });
}
