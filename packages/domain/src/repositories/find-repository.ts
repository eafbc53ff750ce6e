import type { PrismaClient, Repository } from '@cistern/db';
import { found } from '../shared/not-found.ts';

/** The repository with this id; NOT_FOUND (`repository <id> does not exist`) when there is none. */
export async function findRepository(prisma: PrismaClient, id: string): Promise<Repository> {
  return found(await prisma.repository.findUnique({ where: { id } }), 'repository', id);
}
