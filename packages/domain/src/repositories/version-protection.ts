import type { PrismaClient, Repository, RepositoryVersion } from '@cistern/db';
import { CisternError } from '@cistern/errors';

/**
 * The rule on deleting a version: version 0 (where every repository starts)
 * and the latest (what the repository and its distributions serve) are
 * protected (VERSION_PROTECTED); a version a distribution pins is IN_USE,
 * naming the distributions.
 */
export async function assertVersionDeletable(prisma: PrismaClient, repo: Repository, version: RepositoryVersion): Promise<void> {
  if (version.number === 0) throw new CisternError('VERSION_PROTECTED', 'version 0 is where every repository starts; it cannot be deleted');
  if (version.number === repo.latestVersion) {
    throw new CisternError('VERSION_PROTECTED', `version ${version.number} is the latest: the repository and its distributions serve it`);
  }
  const pins = await prisma.distribution.findMany({ where: { repositoryVersionId: version.id }, select: { name: true } });
  if (pins.length > 0) {
    throw new CisternError('IN_USE', `version ${version.number} is pinned by ${pins.map((d) => `distribution "${d.name}"`).join(', ')}`);
  }
}
