import type { PrismaClient, Repository } from '@cistern/db';
import { notFound } from '../shared/not-found.ts';

/** The repository with this id; NOT_FOUND (`repository <id> does not exist`) when there is none. */
export async function findRepository(prisma: PrismaClient, id: string): Promise<Repository> {
  const row = await prisma.repository.findUnique({ where: { id } });
  if (!row) throw notFound('repository', id);
  return row;
}
