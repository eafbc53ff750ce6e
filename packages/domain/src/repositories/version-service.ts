import { pruneMembership, type PrismaClient, type RepositoryVersion } from '@cistern/db';
import { listPage, pageArgs, type Page, type PageRequest } from '../shared/paging.ts';
import { findRepository } from './find-repository.ts';
import { findVersion } from './find-version.ts';
import { versionContent, type VersionContent } from './version-content.ts';
import { versionDiff, type DiffRequest, type VersionDiff } from './version-diff.ts';
import { assertVersionDeletable } from './version-protection.ts';

/**
 * A repository's versions. An unknown repository throws NOT_FOUND
 * (`repository <id> does not exist`), an unknown or pruned version
 * VERSION_UNKNOWN (`repository <id> has no version <n> …`).
 */
export interface VersionService {
  /** Newest first. */
  list(repositoryId: string, page: PageRequest): Promise<Page<RepositoryVersion>>;
  /** One version with its content against its base. */
  show(repositoryId: string, number: number): Promise<{ version: RepositoryVersion; content: VersionContent }>;
  /**
   * Deletes a version and the membership rows only it saw, in one transaction.
   * VERSION_PROTECTED for version 0 and the latest, IN_USE while a distribution pins it.
   */
  delete(repositoryId: string, number: number): Promise<void>;
  /** One page of the changes from a base version to this one (see versionDiff). */
  diff(repositoryId: string, number: number, request: DiffRequest): Promise<VersionDiff>;
}

/** The VersionService over `prisma`. */
export function versionService({ prisma }: { prisma: PrismaClient }): VersionService {
  return {
    list: async (repositoryId, page) => {
      const repo = await findRepository(prisma, repositoryId);
      const where = { repositoryId: repo.id };
      return listPage(prisma.repositoryVersion.count({ where }), prisma.repositoryVersion.findMany({ where, orderBy: { number: 'desc' }, ...pageArgs(page) }));
    },
    show: async (repositoryId, number) => {
      const version = await findVersion(prisma, repositoryId, number);
      return { version, content: await versionContent(prisma, version.repositoryId, version.number, version.baseVersion) };
    },
    delete: async (repositoryId, number) => {
      const repo = await findRepository(prisma, repositoryId);
      const version = await findVersion(prisma, repo.id, number);
      await assertVersionDeletable(prisma, repo, version);
      await prisma.$transaction(async (tx) => {
        await tx.repositoryVersion.delete({ where: { id: version.id } });
        await pruneMembership(tx, repo.id);
      });
    },
    diff: (repositoryId, number, request) => versionDiff(prisma, repositoryId, number, request),
  };
}
