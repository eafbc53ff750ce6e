import { BASE_PATH_RULE, isBasePath, MAX_TOKEN_BASE_PATHS } from '@cistern/auth';
import { z } from 'zod';
import { Id, Name } from '../shared/fields.ts';

/** What a token may do: drive the management API, or pull. */
export const TokenScope = z.enum(['admin', 'pull']);

/** A token's base path: a repository name, or `<name>/*` for every name below it. */
const BasePath = z
  .string()
  .min(1)
  .max(257)
  .refine(isBasePath, BASE_PATH_RULE)
  .describe('a repository name (that name only) or a prefix <name>/* (every name below <name>/, at any depth)');

/**
 * A new token. A pull token reaches every distribution (allDistributions) or
 * else the distributions and base paths it lists, at least one; an admin
 * token lists none (the TokenService's rules, answered VALIDATION_FAILED).
 */
export const TokenInput = z.strictObject({
  name: Name,
  scope: TokenScope,
  allDistributions: z.boolean().default(false).describe('pull tokens: every distribution'),
  distributions: z.array(Id).max(1000).default([]).describe('pull tokens: only these distributions (every name each serves)'),
  basePaths: z
    .array(BasePath)
    .max(MAX_TOKEN_BASE_PATHS)
    .default([])
    .describe('pull tokens: also the names these reach, beside the distributions (cache/* reaches every image a pull-through distribution at cache serves)'),
  expiresAt: z.iso.datetime().nullable().default(null),
});
export type TokenInput = z.output<typeof TokenInput>;
