import type { PrismaClient, Repository } from '@cistern/db';
import { repositoryResource } from '@cistern/queue';

/**
 * What keeps a repository from being deleted, each said in a few words:
 * distributions serving it (its latest or a pinned version) and tasks about
 * to change it. Five of each at most.
 */
export async function repositoryDependents(prisma: PrismaClient, repo: Repository): Promise<string[]> {
  const [distributions, tasks] = await Promise.all([
    prisma.distribution.findMany({
      where: { OR: [{ repositoryId: repo.id }, { repositoryVersion: { repositoryId: repo.id } }] },
      select: { name: true },
      take: 5,
    }),
    prisma.task.findMany({
      where: { resource: repositoryResource(repo.id), state: { in: ['waiting', 'running', 'canceling'] } },
      select: { id: true, state: true },
      take: 5,
    }),
  ]);
  return [...distributions.map((d) => `distribution "${d.name}" serves it`), ...tasks.map((t) => `task ${t.id} is ${t.state}`)];
}
