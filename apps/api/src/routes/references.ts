import type { ApiContext } from '../context.ts';
import { ApiError } from '../errors/api-error.ts';

type Referable = 'remote' | 'repository' | 'repositoryVersion' | 'distribution';

async function count(ctx: ApiContext, kind: Referable, ids: string[]): Promise<number> {
  const where = { id: { in: ids } };
  switch (kind) {
    case 'remote':
      return ctx.prisma.remote.count({ where });
    case 'repository':
      return ctx.prisma.repository.count({ where });
    case 'repositoryVersion':
      return ctx.prisma.repositoryVersion.count({ where });
    case 'distribution':
      return ctx.prisma.distribution.count({ where });
  }
}

/** A body that names other resources by id: each must exist, else 400 naming the field. */
export async function assertExists(ctx: ApiContext, kind: Referable, id: string | string[], path: string): Promise<void> {
  const ids = [...new Set(Array.isArray(id) ? id : [id])];
  if (ids.length === 0 || (await count(ctx, kind, ids)) === ids.length) return;
  const message = `no such ${kind}: ${ids.join(', ')}`;
  throw new ApiError('INVALID_REFERENCE', message, [{ path, code: 'invalid_reference', message }]);
}
