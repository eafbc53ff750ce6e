import { createRepository, Prisma, type PrismaClient } from '@cistern/db';
import { RegistryError } from '../errors/registry-error.ts';

/** Versions a cache repository keeps (plus version 0 and pinned ones): a cache needs its latest, a few more help diffs. */
export const CACHE_RETAIN_VERSIONS = 3;

/** The cache repository of one upstream repository under one pull-through distribution. */
export interface CacheRepositoryKey {
  distribution: { id: string; name: string };
  remoteId: string;
  /** As the upstream knows it (`library/alpine`). */
  upstreamName: string;
}

/**
 * The cache repository of `key`, created on first use as
 * `<distribution name>/<upstream name>` with its remote, upstream name and
 * distribution (so that a sync of it works like any other) and retention
 * CACHE_RETAIN_VERSIONS. Two processes creating it at once get the same one.
 * A repository of that name left by a deleted distribution, of the same remote
 * and upstream repository, is taken over with its versions. Rejects with
 * DENIED when the name is taken by a repository that is not this cache.
 */
export async function ensureCacheRepository(prisma: PrismaClient, key: CacheRepositoryKey): Promise<string> {
  const where = { pullThroughId_upstreamName: { pullThroughId: key.distribution.id, upstreamName: key.upstreamName } };
  const existing = await prisma.repository.findUnique({ where, select: { id: true } });
  if (existing) return existing.id;
  const name = `${key.distribution.name}/${key.upstreamName}`;
  try {
    const created = await createRepository(prisma, {
      name,
      remoteId: key.remoteId,
      upstreamName: key.upstreamName,
      pullThroughId: key.distribution.id,
      retainVersions: CACHE_RETAIN_VERSIONS,
      description: `Pull-through cache of ${key.upstreamName} (distribution "${key.distribution.name}")`,
    });
    return created.id;
  } catch (error) {
    if (!(error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002')) throw error;
    const raced = await prisma.repository.findUnique({ where, select: { id: true } });
    if (raced) return raced.id;
    // The cache of a deleted distribution (its pullThroughId went null) of the same remote and upstream repository is taken over.
    const left = { name, pullThroughId: null, remoteId: key.remoteId, upstreamName: key.upstreamName };
    if ((await prisma.repository.updateMany({ where: left, data: { pullThroughId: key.distribution.id } })).count === 1) {
      const adopted = await prisma.repository.findUnique({ where, select: { id: true } });
      if (adopted) return adopted.id;
    }
    throw new RegistryError('DENIED', `requested access to the resource is denied: the cache repository name "${name}" is taken by another repository`, {
      detail: { repository: name, rule: 'cache repository name' },
      cause: error,
    });
  }
}
