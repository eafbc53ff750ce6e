import type { Distribution, PrismaClient } from '@cistern/db';
import { versionReference } from '../repositories/find-version.ts';
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

/** A distribution with what it serves: a repository, and the number of the version it pins (null: the latest). */
export type DistributionView = Distribution & { source: { repository: string; repositoryVersion: number | null } };

/**
 * Distributions: a base path served from a repository's latest version or a
 * pinned one, named by repository and number. A repository or version that
 * does not exist throws INVALID_REFERENCE (detail path `repository` or
 * `repositoryVersion`); a taken base path is the database's unique violation.
 */
export type DistributionService = ResourceService<DistributionView, DistributionFilter, DistributionInput, DistributionPatch>;

// A pinned distribution names its version only (the version knows its repository).
const withVersion = { repositoryVersion: { select: { repositoryId: true, number: true } } } as const;
type Stored = Distribution & { repositoryVersion: { repositoryId: string; number: number } | null };

function view({ repositoryVersion, ...row }: Stored): DistributionView {
  const repository = repositoryVersion?.repositoryId ?? (row.repositoryId as string);
  return { ...row, source: { repository, repositoryVersion: repositoryVersion?.number ?? null } };
}

/** The DistributionService over `prisma`. */
export function distributionService({ prisma }: { prisma: PrismaClient }): DistributionService {
  const find = async (id: string) => view(found(await prisma.distribution.findUnique({ where: { id }, include: withVersion }), 'distribution', id));
  const toData = async (input: DistributionInput) => {
    const pinned = input.repositoryVersion === null ? null : await versionReference(prisma, input.repository, input.repositoryVersion);
    if (!pinned) await assertExists(prisma, 'repository', input.repository, 'repository');
    return {
      name: input.name,
      basePath: input.basePath,
      repositoryId: pinned ? null : input.repository,
      repositoryVersionId: pinned?.id ?? null,
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
      const { count, rows } = await listPage(
        prisma.distribution.count({ where }),
        prisma.distribution.findMany({ where, include: withVersion, orderBy: { name: 'asc' }, ...pageArgs(page) }),
      );
      return { count, rows: rows.map(view) };
    },
    get: find,
    create: async (input) => view(await prisma.distribution.create({ data: await toData(input), include: withVersion })),
    update: async (id, patch) => {
      const stored = await find(id);
      const current = { name: stored.name, basePath: stored.basePath, ...stored.source, private: stored.private };
      // A repository named anew is served from its latest version unless the patch pins one too.
      const source = patch.repository !== undefined && patch.repositoryVersion === undefined ? { repositoryVersion: null } : {};
      const data = await toData(DistributionInput.parse({ ...current, ...patch, ...source }));
      return view(await prisma.distribution.update({ where: { id: stored.id }, data, include: withVersion }));
    },
    delete: async (id) => {
      const row = await find(id);
      await prisma.distribution.delete({ where: { id: row.id } });
    },
  };
}
