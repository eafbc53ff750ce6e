import type { Prisma, PrismaClient, Repository } from '../generated/client.ts';

/** A repository starts with an empty version 0, written in the same transaction. */
export async function createRepository(
  prisma: PrismaClient,
  data: Omit<Prisma.RepositoryUncheckedCreateInput, 'latestVersion' | 'versions'>,
): Promise<Repository> {
  return prisma.$transaction(async (tx) => {
    const repository = await tx.repository.create({ data: { ...data, latestVersion: 0 } });
    await tx.repositoryVersion.create({ data: { repositoryId: repository.id, number: 0 } });
    return repository;
  });
}
