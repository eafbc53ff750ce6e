import type { PrismaClient } from '@cistern/db';
import { CisternError } from '@cistern/errors';

/** What an input may name by id. */
export type Referable = 'remote' | 'repository' | 'repositoryVersion' | 'distribution';

async function count(prisma: PrismaClient, kind: Referable, ids: string[]): Promise<number> {
  const where = { id: { in: ids } };
  switch (kind) {
    case 'remote':
      return prisma.remote.count({ where });
    case 'repository':
      return prisma.repository.count({ where });
    case 'repositoryVersion':
      return prisma.repositoryVersion.count({ where });
    case 'distribution':
      return prisma.distribution.count({ where });
  }
}

/**
 * An input that names other resources by id: each must exist. Throws
 * INVALID_REFERENCE (`no such <kind>: <ids>`) with one detail whose path is
 * `field`, the input field that named them.
 */
export async function assertExists(prisma: PrismaClient, kind: Referable, id: string | string[], field: string): Promise<void> {
  const ids = [...new Set(Array.isArray(id) ? id : [id])];
  if (ids.length === 0 || (await count(prisma, kind, ids)) === ids.length) return;
  const message = `no such ${kind}: ${ids.join(', ')}`;
  throw new CisternError('INVALID_REFERENCE', message, { detail: [{ path: field, code: 'invalid_reference', message }] });
}
