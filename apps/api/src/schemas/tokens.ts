import { z } from 'zod';
import { Id, ListQuery, Name, QueryBoolean, Timestamp } from './common.ts';

const Scope = z.enum(['admin', 'pull']);

export const TokenInput = z.strictObject({
  name: Name,
  scope: Scope,
  allDistributions: z.boolean().default(false).describe('pull tokens: every distribution'),
  distributions: z.array(Id).max(1000).default([]).describe('pull tokens: only these distributions'),
  expiresAt: Timestamp.nullable().default(null),
});

export const Token = z
  .object({
    id: Id,
    href: z.string(),
    name: z.string(),
    scope: Scope,
    allDistributions: z.boolean(),
    distributions: z.array(Id),
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
