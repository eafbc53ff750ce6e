import type { TokenWithDistributions } from '@cistern/auth';
import { TokenInput } from '@cistern/domain';
import type { z } from 'zod';
import { hrefOf, type ApiContext } from '../context.ts';
import { toPage } from '../http/pagination.ts';
import type { RouteTable } from '../http/route-table.ts';
import { IdParams, page } from '../schemas/common.ts';
import { CreatedToken, Token, TokenListQuery } from '../schemas/tokens.ts';

const TAG = 'Tokens';
const iso = (d: Date | null) => d?.toISOString() ?? null;

/** Never the secret nor its hash. */
function toToken(row: TokenWithDistributions): z.input<typeof Token> {
  return {
    id: row.id,
    href: hrefOf('tokens', row.id),
    name: row.name,
    scope: row.scope,
    allDistributions: row.allDistributions,
    distributions: row.distributions.map((d) => d.distributionId),
    basePaths: row.basePaths,
    expiresAt: iso(row.expiresAt),
    revokedAt: iso(row.revokedAt),
    lastUsedAt: iso(row.lastUsedAt),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export function tokenRoutes(routes: RouteTable, ctx: ApiContext): void {
  routes.add(
    { method: 'get', path: '/tokens', tag: TAG, summary: 'List tokens (never their secrets)', query: TokenListQuery, status: 200, response: page(Token) },
    async ({ query, req }) => toPage(req, query, await ctx.tokens.list(query, query), toToken),
  );
  routes.add(
    {
      method: 'post',
      path: '/tokens',
      tag: TAG,
      summary: 'Create a token; its secret is shown only in this response',
      body: TokenInput,
      status: 201,
      response: CreatedToken,
      errors: ['ALREADY_EXISTS', 'INVALID_REFERENCE'],
    },
    async ({ body }) => {
      const { token, secret } = await ctx.tokens.create({
        name: body.name,
        scope: body.scope,
        allDistributions: body.allDistributions,
        distributionIds: body.distributions,
        basePaths: body.basePaths,
        expiresAt: body.expiresAt === null ? null : new Date(body.expiresAt),
      });
      return { ...toToken(token), secret };
    },
  );
  routes.add({ method: 'get', path: '/tokens/{id}', tag: TAG, summary: 'Show a token', params: IdParams, status: 200, response: Token }, async ({ params }) =>
    toToken(await ctx.tokens.get(params.id)),
  );
  routes.add(
    {
      method: 'post',
      path: '/tokens/{id}/revoke',
      tag: TAG,
      summary: 'Revoke a token',
      description: 'It stops working at once and stays listed with revokedAt.',
      params: IdParams,
      status: 200,
      response: Token,
    },
    async ({ params }) => toToken(await ctx.tokens.revoke(params.id)),
  );
}
