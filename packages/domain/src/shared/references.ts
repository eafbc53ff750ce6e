import type { PrismaClient } from '@cistern/db';
import { CisternError } from '@cistern/errors';

/** What an input may name by id. */
export type Referable = 'remote' | 'repository' | 'distribution';

/** Those of `ids` that exist. */
async function existing(prisma: PrismaClient, kind: Referable, ids: string[]): Promise<{ id: string }[]> {
  const query = { where: { id: { in: ids } }, select: { id: true } } as const;
  switch (kind) {
    case 'remote':
      return prisma.remote.findMany(query);
    case 'repository':
      return prisma.repository.findMany(query);
    case 'distribution':
      return prisma.distribution.findMany(query);
  }
}

/**
 * An input that names other resources by id: each must exist. Throws
 * INVALID_REFERENCE (`no such <kind>: <the ids that do not exist>`) with one
 * detail whose path is `field`, the input field that named them.
 */
export async function assertExists(prisma: PrismaClient, kind: Referable, id: string | string[], field: string): Promise<void> {
  const ids = [...new Set(Array.isArray(id) ? id : [id])];
  if (ids.length === 0) return;
  const found = new Set((await existing(prisma, kind, ids)).map((row) => row.id));
  // PostgreSQL reads a uuid in either case and answers it in lower case.
  const missing = ids.filter((one) => !found.has(one.toLowerCase()));
  if (missing.length > 0) throw invalidReference(kind, missing, field);
}

/** The INVALID_REFERENCE error of an input whose `field` names `missing` ids of a kind that do not exist. */
export function invalidReference(kind: Referable, missing: string[], field: string): CisternError {
  const message = `no such ${kind}: ${missing.join(', ')}`;
  return new CisternError('INVALID_REFERENCE', message, { detail: [{ path: field, code: 'invalid_reference', message }] });
}
