import { inVersion, type PrismaClient } from '@cistern/db';
import { CisternError } from '@cistern/errors';
import { versionReference } from '../repositories/find-version.ts';

/** Every content filter may narrow to the content of one repository, or of one version of it (by its number). */
export interface InRepository {
  repository?: string;
  /** A version number of `repository`; needs it. */
  repositoryVersion?: number;
}

/**
 * The membership rows of a repository (any version), or of one of its
 * versions, as a Prisma `where` on RepositoryManifest or RepositoryTag;
 * undefined when neither is asked for. A version without its repository
 * throws VALIDATION_FAILED; a repository or version that does not exist
 * INVALID_REFERENCE (detail path `repository` or `repositoryVersion`).
 */
export async function versionFilter(prisma: PrismaClient, filter: InRepository) {
  const { repository, repositoryVersion } = filter;
  if (repositoryVersion !== undefined) {
    if (repository === undefined) {
      const message = 'a version number names a version of one repository: give repository too';
      throw new CisternError('VALIDATION_FAILED', message, { detail: [{ path: 'repositoryVersion', code: 'repository_required', message }] });
    }
    const version = await versionReference(prisma, repository, repositoryVersion);
    return { repositoryId: version.repositoryId, ...inVersion(version.number) };
  }
  return repository === undefined ? undefined : { repositoryId: repository };
}
