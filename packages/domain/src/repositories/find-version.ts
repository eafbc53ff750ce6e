import type { PrismaClient, RepositoryVersion } from '@cistern/db';
import { CisternError } from '@cistern/errors';
import { assertExists } from '../shared/references.ts';
import { findRepository } from './find-repository.ts';

const unknownVersion = (repositoryId: string, number: number) => `repository ${repositoryId} has no version ${number} (never written, or pruned)`;

/**
 * Version `number` of a repository. NOT_FOUND when the repository does not
 * exist; VERSION_UNKNOWN when the version was never written or was pruned,
 * with a detail naming `field` when the number came from an input field.
 */
export async function findVersion(prisma: PrismaClient, repositoryId: string, number: number, field?: string): Promise<RepositoryVersion> {
  const repo = await findRepository(prisma, repositoryId);
  const version = await prisma.repositoryVersion.findUnique({ where: { repositoryId_number: { repositoryId: repo.id, number } } });
  if (version) return version;
  const message = unknownVersion(repo.id, number);
  throw new CisternError('VERSION_UNKNOWN', message, { detail: field ? [{ path: field, code: 'version_unknown', message }] : [] });
}

/**
 * A version an input names by repository and number (a distribution's pin, a
 * list filter): INVALID_REFERENCE (detail path `repository` or
 * `repositoryVersion`) when either does not exist, as for any id an input names.
 */
export async function versionReference(prisma: PrismaClient, repositoryId: string, number: number): Promise<RepositoryVersion> {
  await assertExists(prisma, 'repository', repositoryId, 'repository');
  const version = await prisma.repositoryVersion.findUnique({ where: { repositoryId_number: { repositoryId, number } } });
  if (version) return version;
  const message = unknownVersion(repositoryId, number);
  throw new CisternError('INVALID_REFERENCE', message, { detail: [{ path: 'repositoryVersion', code: 'invalid_reference', message }] });
}
