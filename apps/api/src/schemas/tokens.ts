import { TokenScope as Scope } from '@cistern/domain';
import { z } from 'zod';
import { Id, ListQuery, QueryBoolean, Timestamp } from './common.ts';

export const Token = z
  .object({
    id: Id,
    href: z.string(),
    name: z.string(),
    scope: Scope,
    allDistributions: z.boolean(),
    distributions: z.array(Id),
    basePaths: z.array(z.string()).describe('names (exact) and prefixes (<name>/*) it may pull, beside its distributions'),
    expiresAt: Timestamp.nullable(),
    revokedAt: Timestamp.nullable(),
    lastUsedAt: Timestamp.nullable(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: 'Token' });

export const CreatedToken = Token.extend({
  secret: z.string().describe('shown only in this response; use it as a Bearer token or as the docker login password'),
}).meta({ id: 'CreatedToken' });

export const TokenListQuery = ListQuery.extend({ scope: Scope.optional(), revoked: QueryBoolean.optional() });
