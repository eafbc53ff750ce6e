import type { CreateTokenInput, CreatedToken, TokenService, TokenWithDistributions } from '@cistern/auth';
import type { PrismaClient, TokenScope } from '@cistern/db';
import { nameWhere, type NameFilter } from '../shared/name-filter.ts';
import { found } from '../shared/not-found.ts';
import { listPage, pageArgs, type Page, type PageRequest } from '../shared/paging.ts';
import { assertExists } from '../shared/references.ts';

/** Filters of the token list; undefined parts filter nothing. */
export interface TokenFilter extends NameFilter {
  scope?: TokenScope;
  revoked?: boolean;
}

const withDistributions = { distributions: { select: { distributionId: true } } } as const;

/**
 * API tokens as administrators see them: never the secret nor its hash,
 * except the secret once, at creation. Rules on scopes are the TokenService's
 * (TokenInputError); unknown ids throw NOT_FOUND.
 */
export interface TokenAdministration {
  /** Ordered by name. */
  list(filter: TokenFilter, page: PageRequest): Promise<Page<TokenWithDistributions>>;
  get(id: string): Promise<TokenWithDistributions>;
  /** The distributions named must exist (INVALID_REFERENCE, detail path `distributions`). */
  create(input: CreateTokenInput): Promise<CreatedToken>;
  /** It stops working at once and stays listed with revokedAt. */
  revoke(id: string): Promise<TokenWithDistributions>;
}

/** The TokenAdministration over `prisma`, creating and revoking through `tokens`. */
export function tokenAdministration({ prisma, tokens }: { prisma: PrismaClient; tokens: TokenService }): TokenAdministration {
  return {
    list: async (filter, page) => {
      const revoked = filter.revoked === undefined ? {} : { revokedAt: filter.revoked ? { not: null } : null };
      const where = { ...nameWhere(filter), scope: filter.scope, ...revoked };
      return listPage(
        prisma.apiToken.count({ where }),
        prisma.apiToken.findMany({ where, orderBy: { name: 'asc' }, include: withDistributions, ...pageArgs(page) }),
      );
    },
    get: async (id) => found(await prisma.apiToken.findUnique({ where: { id }, include: withDistributions }), 'token', id),
    create: async (input) => {
      await assertExists(prisma, 'distribution', input.distributionIds ?? [], 'distributions');
      return tokens.create(input);
    },
    revoke: async (id) => found(await tokens.revoke(id), 'token', id),
  };
}
