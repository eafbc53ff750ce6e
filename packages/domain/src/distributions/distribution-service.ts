import type { Distribution, PrismaClient } from '@cistern/db';
import { nameWhere, type NameFilter } from '../shared/name-filter.ts';
import { notFound } from '../shared/not-found.ts';
import { listPage, pageArgs, type Page, type PageRequest } from '../shared/paging.ts';
import { assertExists } from '../shared/references.ts';
import { DistributionInput, type DistributionPatch } from './distribution-input.ts';

export interface DistributionFilter extends NameFilter {
  basePath?: string;
  private?: boolean;
  /** Distributions serving this repository, its latest or a pinned version of it. */
  repository?: string;
}

/**
 * Distributions: a base path served from a repository's latest version or a
 * pinned one. Unknown ids throw NOT_FOUND; a repository or version that does
 * not exist INVALID_REFERENCE (detail path `repository` or
 * `repositoryVersion`); a taken name or base path is the database's unique violation.
 */
export interface DistributionService {
  /** Ordered by name. */
  list(filter: DistributionFilter, page: PageRequest): Promise<Page<Distribution>>;
  get(id: string): Promise<Distribution>;
  create(input: DistributionInput): Promise<Distribution>;
  replace(id: string, input: DistributionInput): Promise<Distribution>;
  /** The given fields over the stored ones, checked as a whole distribution (ZodError if not). */
  update(id: string, patch: DistributionPatch): Promise<Distribution>;
  delete(id: string): Promise<void>;
}

export function distributionService({ prisma }: { prisma: PrismaClient }): DistributionService {
  const find = async (id: string): Promise<Distribution> => {
    const row = await prisma.distribution.findUnique({ where: { id } });
    if (!row) throw notFound('distribution', id);
    return row;
  };
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
  const write = async (stored: Distribution, input: DistributionInput) =>
    prisma.distribution.update({ where: { id: stored.id }, data: await toData(input) });

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
    replace: async (id, input) => write(await find(id), input),
    update: async (id, patch) => {
      const stored = await find(id);
      const current = {
        name: stored.name,
        basePath: stored.basePath,
        repository: stored.repositoryId,
        repositoryVersion: stored.repositoryVersionId,
        private: stored.private,
      };
      return write(stored, DistributionInput.parse({ ...current, ...patch }));
    },
    delete: async (id) => {
      const row = await find(id);
      await prisma.distribution.delete({ where: { id: row.id } });
    },
  };
}
