import { inVersion, type PrismaClient } from '@cistern/db';
import { assertExists } from '../shared/references.ts';

/**
 * The membership rows of one repository version, as a Prisma `where` on
 * RepositoryManifest or RepositoryTag; undefined when no version is asked
 * for. A version that does not exist throws INVALID_REFERENCE (detail path
 * `repositoryVersion`).
 */
export async function versionFilter(prisma: PrismaClient, versionId: string | undefined) {
  if (!versionId) return undefined;
  await assertExists(prisma, 'repositoryVersion', versionId, 'repositoryVersion');
  const version = await prisma.repositoryVersion.findUniqueOrThrow({ where: { id: versionId } });
  return { repositoryId: version.repositoryId, ...inVersion(version.number) };
}
