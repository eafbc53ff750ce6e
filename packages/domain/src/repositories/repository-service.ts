import { createRepository, type PrismaClient, type Repository } from '@cistern/db';
import { CisternError } from '@cistern/errors';
import { onReachableQueue, removeSchedule } from '@cistern/queue';
import type { Queue } from 'bullmq';
import { nameWhere, type NameFilter } from '../shared/name-filter.ts';
import { listPage, pageArgs } from '../shared/paging.ts';
import { assertExists } from '../shared/references.ts';
import type { ResourceService } from '../shared/resource-service.ts';
import { findRepository } from './find-repository.ts';
import { repositoryDependents } from './repository-dependents.ts';
import { RepositoryInput, type RepositoryPatch } from './repository-input.ts';
import { repositoryUsage, type RepositoryUsage } from './repository-usage.ts';

/** Filters of the repository list; undefined parts filter nothing. */
export interface RepositoryFilter extends NameFilter {
  /** Only repositories whose default remote is this one. */
  remote?: string;
  /** Only the cache repositories of this pull-through distribution. */
  pullThrough?: string;
}

/**
 * Repositories, each created with its empty version 0 in one transaction. A
 * remote that does not exist throws INVALID_REFERENCE (detail path `remote`).
 * Deleting one takes its versions and schedules (their job schedulers first,
 * so one with schedules is REDIS_UNAVAILABLE while Redis is unreachable); it
 * is IN_USE while a distribution serves it or a task is about to change it.
 * `pullThroughId` is never input: the registry sets it on the cache
 * repositories it creates, and deleting their distribution clears it. While
 * it is set the repository's upstreamName cannot change (VALIDATION_FAILED,
 * detail path `upstreamName`): the cache finds its content by it.
 */
export interface RepositoryService extends ResourceService<Repository, RepositoryFilter, RepositoryInput, RepositoryPatch> {
  /** One repository with what its content occupies in the blob store (too costly for every row of the list). */
  show(id: string): Promise<{ repository: Repository; usage: RepositoryUsage }>;
}

/** The RepositoryService over `prisma`, removing deleted schedules' job schedulers from `scheduleQueue`. */
export function repositoryService({ prisma, scheduleQueue }: { prisma: PrismaClient; scheduleQueue: Queue }): RepositoryService {
  const toData = async (input: RepositoryInput) => {
    if (input.remote !== null) await assertExists(prisma, 'remote', input.remote, 'remote');
    return { name: input.name, description: input.description, remoteId: input.remote, upstreamName: input.upstreamName, retainVersions: input.retainVersions };
  };

  return {
    list: async (filter, page) => {
      const where = { ...nameWhere(filter), remoteId: filter.remote, pullThroughId: filter.pullThrough };
      return listPage(prisma.repository.count({ where }), prisma.repository.findMany({ where, orderBy: { name: 'asc' }, ...pageArgs(page) }));
    },
    get: (id) => findRepository(prisma, id),
    show: async (id) => {
      const repository = await findRepository(prisma, id);
      return { repository, usage: await repositoryUsage(prisma, repository.id) };
    },
    create: async (input) => createRepository(prisma, await toData(input)),
    update: async (id, patch) => {
      const stored = await findRepository(prisma, id);
      const current = {
        name: stored.name,
        description: stored.description,
        remote: stored.remoteId,
        upstreamName: stored.upstreamName,
        retainVersions: stored.retainVersions,
      };
      const input = RepositoryInput.parse({ ...current, ...patch });
      if (stored.pullThroughId !== null && input.upstreamName !== stored.upstreamName) {
        const message = `repository "${stored.name}" is a pull-through cache of ${JSON.stringify(stored.upstreamName)}: its upstreamName is what it holds and cannot change`;
        throw new CisternError('VALIDATION_FAILED', message, { detail: [{ path: 'upstreamName', code: 'pull_through_cache', message }] });
      }
      const data = await toData(input);
      return prisma.repository.update({ where: { id: stored.id }, data });
    },
    delete: async (id) => {
      const repo = await findRepository(prisma, id);
      const blockers = await repositoryDependents(prisma, repo);
      if (blockers.length > 0) throw new CisternError('IN_USE', `repository "${repo.name}" cannot be deleted: ${blockers.join('; ')}`);
      const schedules = await prisma.schedule.findMany({ where: { repositoryId: repo.id }, select: { id: true } });
      for (const schedule of schedules)
        await onReachableQueue(scheduleQueue, "delete the repository's schedules", () => removeSchedule(scheduleQueue, schedule.id));
      await prisma.repository.delete({ where: { id: repo.id } });
    },
  };
}
