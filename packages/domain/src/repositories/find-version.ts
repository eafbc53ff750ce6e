import type { PrismaClient, RepositoryVersion } from '@cistern/db';
import { CisternError } from '@cistern/errors';
import { assertExists } from '../shared/references.ts';
import { findRepository } from './find-repository.ts';

/**
 * Version `number` of an existing repository, or the error `refuse` makes of
 * the message naming what is missing.
 */
async function versionOr(prisma: PrismaClient, repositoryId: string, number: number, refuse: (message: string) => CisternError): Promise<RepositoryVersion> {
  const version = await prisma.repositoryVersion.findUnique({ where: { repositoryId_number: { repositoryId, number } } });
  if (version) return version;
  throw refuse(`repository ${repositoryId} has no version ${number} (never written, or pruned)`);
}

/**
 * Version `number` of a repository. NOT_FOUND when the repository does not
 * exist; VERSION_UNKNOWN when the version was never written or was pruned,
 * with a detail naming `field` when the number came from an input field.
 */
export async function findVersion(prisma: PrismaClient, repositoryId: string, number: number, field?: string): Promise<RepositoryVersion> {
  const repo = await findRepository(prisma, repositoryId);
  return versionOr(
    prisma,
    repo.id,
    number,
    (message) => new CisternError('VERSION_UNKNOWN', message, { detail: field ? [{ path: field, code: 'version_unknown', message }] : [] }),
  );
}

/**
 * A version an input names by repository and number (a distribution's pin, a
 * list filter): INVALID_REFERENCE (detail path `repository` or
 * `repositoryVersion`) when either does not exist, as for any id an input names.
 */
export async function versionReference(prisma: PrismaClient, repositoryId: string, number: number): Promise<RepositoryVersion> {
  await assertExists(prisma, 'repository', repositoryId, 'repository');
  return versionOr(
    prisma,
    repositoryId,
    number,
    (message) => new CisternError('INVALID_REFERENCE', message, { detail: [{ path: 'repositoryVersion', code: 'invalid_reference', message }] }),
  );
}
