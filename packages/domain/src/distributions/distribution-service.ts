import type { Distribution, PrismaClient } from '@cistern/db';
import { nameWhere, type NameFilter } from '../shared/name-filter.ts';
import { found } from '../shared/not-found.ts';
import { listPage, pageArgs } from '../shared/paging.ts';
import { assertExists } from '../shared/references.ts';
import type { ResourceService } from '../shared/resource-service.ts';
import { DistributionInput, type DistributionPatch } from './distribution-input.ts';

/** Filters of the distribution list; undefined parts filter nothing. */
export interface DistributionFilter extends NameFilter {
  basePath?: string;
  private?: boolean;
  /** Distributions serving this repository, its latest or a pinned version of it. */
  repository?: string;
}

/**
 * Distributions: a base path served from a repository's latest version or a
 * pinned one. A repository or version that does not exist throws
 * INVALID_REFERENCE (detail path `repository` or `repositoryVersion`); a
 * taken base path is the database's unique violation.
 */
export type DistributionService = ResourceService<Distribution, DistributionFilter, DistributionInput, DistributionPatch>;

/** The DistributionService over `prisma`. */
export function distributionService({ prisma }: { prisma: PrismaClient }): DistributionService {
  const find = async (id: string) => found(await prisma.distribution.findUnique({ where: { id } }), 'distribution', id);
  const toData = async (input: DistributionInput) => {
    if (input.repository) await assertExists(prisma, 'repository', input.repository, 'repository');
    if (input.repositoryVersion) await assertExists(prisma, 'repositoryVersion', input.repositoryVersion, 'repositoryVersion');
    return {
      name: input.name,
      basePath: input.basePath,
      repositoryId: input.repository,
      repositoryVersionId: input.repositoryVersion,
      private: input.private,
    };
  };

  return {
    list: async (filter, page) => {
      const where = {
        ...nameWhere(filter),
        basePath: filter.basePath,
        private: filter.private,
        ...(filter.repository ? { OR: [{ repositoryId: filter.repository }, { repositoryVersion: { repositoryId: filter.repository } }] } : {}),
      };
      return listPage(prisma.distribution.count({ where }), prisma.distribution.findMany({ where, orderBy: { name: 'asc' }, ...pageArgs(page) }));
    },
    get: find,
    create: async (input) => prisma.distribution.create({ data: await toData(input) }),
    update: async (id, patch) => {
      const stored = await find(id);
      const current = {
        name: stored.name,
        basePath: stored.basePath,
        repository: stored.repositoryId,
        repositoryVersion: stored.repositoryVersionId,
        private: stored.private,
      };
      // Switching between repository and repositoryVersion means naming one and nulling the other.
      const data = await toData(DistributionInput.parse({ ...current, ...patch }));
      return prisma.distribution.update({ where: { id: stored.id }, data });
    },
    delete: async (id) => {
      const row = await find(id);
      await prisma.distribution.delete({ where: { id: row.id } });
    },
  };
}
