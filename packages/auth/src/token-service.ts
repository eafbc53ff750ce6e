import type { ApiToken, PrismaClient, TokenScope } from '@cistern/db';
import { CisternError, type CisternErrorOptions } from '@cistern/errors';
import { BASE_PATH_RULE, isBasePath, MAX_TOKEN_BASE_PATHS } from './base-paths.ts';
import { generateSecret, hashesEqual, hashSecret } from './secret.ts';

/** Who presented a token, and what it may reach. */
export type Principal =
  | { scope: 'admin'; tokenId: string | null; name: string }
  | { scope: 'pull'; tokenId: string; name: string; allDistributions: boolean; distributionIds: string[]; basePaths: string[] };

export interface CreateTokenInput {
  name: string;
  scope: TokenScope;
  /**
   * Pull tokens: every distribution, or only `distributionIds` and the names
   * `basePaths` reach (see basePathReaches; each a name or `<name>/*`, at most
   * MAX_TOKEN_BASE_PATHS).
   */
  allDistributions?: boolean;
  distributionIds?: string[];
  basePaths?: string[];
  expiresAt?: Date | null;
}

export type TokenWithDistributions = ApiToken & { distributions: { distributionId: string }[] };

export interface CreatedToken {
  token: TokenWithDistributions;
  /** Shown to the caller once; only its hash is stored. */
  secret: string;
}

/** A token request that breaks a rule of tokens (the API answers VALIDATION_FAILED). */
export class TokenInputError extends CisternError<'TOKEN_INVALID'> {
  override readonly name = 'TokenInputError';

  constructor(message: string, options?: CisternErrorOptions) {
    super('TOKEN_INVALID', message, options);
  }
}

/** lastUsedAt is bookkeeping, not an audit log: one write a minute per token is enough. */
const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * API tokens: admin tokens drive the management API; pull tokens are what
 * `docker login` takes as a password for private distributions.
 * `CISTERN_ADMIN_TOKEN`, when configured, is an admin token that needs no row.
 */
export class TokenService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly bootstrapAdminToken?: string,
  ) {}

  async create(input: CreateTokenInput): Promise<CreatedToken> {
    const pull = input.scope === 'pull';
    const distributionIds = pull ? [...new Set(input.distributionIds ?? [])] : [];
    const basePaths = pull ? [...new Set(input.basePaths ?? [])] : [];
    const allDistributions = pull && (input.allDistributions ?? false);
    if (!pull && (input.allDistributions || (input.distributionIds?.length ?? 0) > 0 || (input.basePaths?.length ?? 0) > 0)) {
      throw new TokenInputError('admin tokens reach everything; distributions and base paths apply to pull tokens only');
    }
    if (basePaths.length > MAX_TOKEN_BASE_PATHS) throw new TokenInputError(`a token takes at most ${MAX_TOKEN_BASE_PATHS} base paths`);
    const invalid = basePaths.find((entry) => !isBasePath(entry));
    if (invalid !== undefined) throw new TokenInputError(`base path ${JSON.stringify(invalid)} ${BASE_PATH_RULE}`);
    if (pull && allDistributions === distributionIds.length + basePaths.length > 0) {
      throw new TokenInputError('a pull token needs either allDistributions or a non-empty list of distributions or base paths, not both');
    }
    const secret = generateSecret();
    const token = await this.prisma.apiToken.create({
      data: {
        name: input.name,
        scope: input.scope,
        secretHash: hashSecret(secret),
        allDistributions,
        basePaths,
        expiresAt: input.expiresAt ?? null,
        distributions: { create: distributionIds.map((distributionId) => ({ distributionId })) },
      },
      include: { distributions: { select: { distributionId: true } } },
    });
    return { token, secret };
  }

  /** The principal a presented secret stands for, or null if it is unknown, revoked or expired. */
  async verify(secret: string, now = new Date()): Promise<Principal | null> {
    return this.verifyHash(hashSecret(secret), now);
  }

  /**
   * As `verify`, given the secret's `hashSecret` instead of the secret: what a
   * browser session keeps (see AdminSessions), so it never holds the token.
   */
  async verifyHash(secretHash: string, now = new Date()): Promise<Principal | null> {
    if (this.bootstrapAdminToken && hashesEqual(secretHash, hashSecret(this.bootstrapAdminToken))) {
      return { scope: 'admin', tokenId: null, name: 'CISTERN_ADMIN_TOKEN' };
    }
    const token = await this.prisma.apiToken.findUnique({
      where: { secretHash },
      include: { distributions: { select: { distributionId: true } } },
    });
    if (!token || token.revokedAt || (token.expiresAt && token.expiresAt <= now)) return null;
    if (!token.lastUsedAt || now.getTime() - token.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
      await this.prisma.apiToken.update({ where: { id: token.id }, data: { lastUsedAt: now } });
    }
    if (token.scope === 'admin') return { scope: 'admin', tokenId: token.id, name: token.name };
    return {
      scope: 'pull',
      tokenId: token.id,
      name: token.name,
      allDistributions: token.allDistributions,
      distributionIds: token.distributions.map((d) => d.distributionId),
      basePaths: token.basePaths,
    };
  }

  /**
   * What the token `tokenId` reaches now (null: CISTERN_ADMIN_TOKEN, which
   * reaches everything); null when it is unknown, revoked or expired.
   */
  async reach(tokenId: string | null, now = new Date()): Promise<PullReach | null> {
    if (tokenId === null) return reachOf({ scope: 'admin', tokenId: null, name: 'CISTERN_ADMIN_TOKEN' });
    const token = await this.prisma.apiToken.findUnique({ where: { id: tokenId }, include: { distributions: { select: { distributionId: true } } } });
    if (!token || token.revokedAt || (token.expiresAt && token.expiresAt <= now)) return null;
    if (token.scope === 'admin') return reachOf({ scope: 'admin', tokenId: token.id, name: token.name });
    return { allDistributions: token.allDistributions, distributionIds: token.distributions.map((d) => d.distributionId), basePaths: token.basePaths };
  }

  /** Revoked tokens stay listed (with revokedAt) so their use can be traced; returns null if unknown. */
  async revoke(id: string, now = new Date()): Promise<TokenWithDistributions | null> {
    await this.prisma.apiToken.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: now } });
    return this.prisma.apiToken.findUnique({ where: { id }, include: { distributions: { select: { distributionId: true } } } });
  }
}

/** What a pull token reaches, as canPull reads it: every distribution, or those listed and the names its base paths reach. */
export interface PullReach {
  allDistributions: boolean;
  distributionIds: string[];
  basePaths: string[];
}

/** A principal's reach: an admin's is everything. */
export function reachOf(principal: Principal): PullReach {
  if (principal.scope === 'admin') return { allDistributions: true, distributionIds: [], basePaths: [] };
  return { allDistributions: principal.allDistributions, distributionIds: principal.distributionIds, basePaths: principal.basePaths };
}

/**
 * Whether a principal (or a reach it handed on, e.g. in a registry token) may
 * pull repository `name` from the distribution that serves it (the
 * registry's check): a token naming the distribution reaches every name it
 * serves (all of a pull-through distribution's), one with base paths the
 * names they reach.
 */
export function canPull(principal: Principal | PullReach, distributionId: string, name: string): boolean {
  const reach = 'scope' in principal ? reachOf(principal) : principal;
  if (reach.allDistributions) return true;
  return reach.distributionIds.includes(distributionId) || reach.basePaths.some((entry) => basePathReaches(entry, name));
}

/**
 * Whether a reach may pull any name below `prefix` (`<base path>/`) of the
 * distribution: the catalog reads no name of a private one it cannot.
 */
export function reachesBelow(reach: PullReach, distributionId: string, prefix: string): boolean {
  if (reach.allDistributions || reach.distributionIds.includes(distributionId)) return true;
  return reach.basePaths.some((entry) => {
    const path = entry.endsWith('/*') ? entry.slice(0, -1) : entry;
    return path.startsWith(prefix) || (path !== entry && prefix.startsWith(path));
  });
}

/**
 * Whether a token's base-path entry reaches repository `name`: an exact base
 * path reaches that name, a prefix `<path>/*` every name below `<path>/`, at
 * any depth (`cache/*` reaches `cache/library/alpine`).
 */
export function basePathReaches(entry: string, name: string): boolean {
  return entry.endsWith('/*') ? name.startsWith(entry.slice(0, -1)) : name === entry;
}
