import { canPull, type Principal, type PullReach, type TokenService } from '@cistern/auth';
import { authorizationCredentials } from '@cistern/config';
import { isRepositoryName } from '@cistern/oci';
import type { DistributionDirectory, Route, ServedDistribution } from '../distributions/distribution-directory.ts';
import { RegistryError } from '../errors/registry-error.ts';
import { grants, type AccessEntry, type IssuedToken, type PullTokens, type TokenClaims } from './pull-tokens.ts';
import { requestedScopes } from './scopes.ts';

/** What a request's Authorization header amounts to. */
export interface Caller {
  /** A Bearer token was sent (valid or not). */
  presented: boolean;
  claims: TokenClaims | null;
  /** For the catalog: what the API token behind a catalog grant reaches now (see catalogCaller). */
  reach?: PullReach;
}

export const ANONYMOUS: Caller = { presented: false, claims: null };

/** What access is checked for: the distribution that serves a repository name, and that name. */
export type ReadTarget = Pick<Route, 'distribution' | 'name'>;

/**
 * Docker token auth for private distributions: the token endpoint trades an
 * API token (Basic password, any user name) or nothing (anonymous) for a
 * short-lived JWT naming the repositories it may pull; the registry checks it.
 * Public distributions need no token. Grants always name the repository asked
 * for: a distribution's base path, or a name under a pull-through
 * distribution's (`cache/library/alpine`), never the pull-through base path
 * alone, which is no repository.
 */
export class RegistryAuth {
  constructor(
    private readonly tokens: PullTokens,
    private readonly apiTokens: TokenService,
    private readonly directory: DistributionDirectory,
  ) {}

  get service(): string {
    return this.tokens.service;
  }

  /**
   * `GET /token`: grants pull on each requested repository the caller may pull
   * (canPull: a token naming a pull-through distribution reaches every name
   * under its base path, a base-path entry `cache/*` every name below it), and
   * nothing else.
   */
  async issue(authorization: string | undefined, scopes: readonly string[]): Promise<IssuedToken> {
    const principal = await this.principal(authorization);
    const access: AccessEntry[] = [];
    const requested = requestedScopes(scopes);
    // What `docker`/`crane catalog` ask for: the catalog then lists every private name the API token reaches.
    const catalog = principal !== null && requested.some((s) => s.type === 'registry' && s.name === 'catalog');
    if (catalog) access.push({ type: 'registry', name: 'catalog', actions: ['*'] });
    for (const scope of requested) {
      if (scope.type !== 'repository' || !scope.actions.includes('pull') || !isRepositoryName(scope.name)) continue;
      const distribution = (await this.directory.route(scope.name))?.distribution;
      if (distribution && mayPull(principal, distribution, scope.name)) access.push({ type: 'repository', name: scope.name, actions: ['pull'] });
    }
    return this.tokens.issue({ subject: principal?.name ?? 'anonymous', access, ...(catalog ? { catalogToken: principal.tokenId } : {}) });
  }

  async caller(authorization: string | undefined): Promise<Caller> {
    const bearer = authorizationCredentials(authorization, 'bearer');
    if (bearer === undefined) return ANONYMOUS;
    return { presented: true, claims: await this.tokens.verify(bearer) };
  }

  /** The caller of `GET /v2/_catalog`: with a catalog grant, also what its API token reaches now. */
  async catalogCaller(authorization: string | undefined): Promise<Caller> {
    const caller = await this.caller(authorization);
    const token = caller.claims?.catalogToken;
    if (token === undefined) return caller;
    const reach = await this.apiTokens.reach(token);
    return reach ? { ...caller, reach } : caller;
  }

  /** `GET /v2/`: 200 only with a valid token, so that clients learn the realm from the 401. */
  assertToken(caller: Caller): void {
    if (caller.claims) return;
    throw new RegistryError('UNAUTHORIZED', 'authentication required', {
      headers: { 'www-authenticate': this.tokens.challenge(undefined, caller.presented ? 'invalid_token' : undefined) },
    });
  }

  /**
   * Private distributions need a token granting pull on the requested name;
   * the 401 challenge's scope names it, which is what clients then ask the
   * token endpoint for.
   */
  assertPull(target: ReadTarget, caller: Caller): void {
    if (this.mayRead(target, caller)) return;
    const scope = `repository:${target.name}:pull`;
    const error = caller.claims ? 'insufficient_scope' : caller.presented ? 'invalid_token' : undefined;
    throw new RegistryError('UNAUTHORIZED', 'authentication required', {
      detail: [{ Type: 'repository', Name: target.name, Action: 'pull' }],
      headers: { 'www-authenticate': this.tokens.challenge(scope, error) },
    });
  }

  /** Whether the caller may read `target.name`: its distribution is public, or the caller's token grants pull on that name. */
  mayRead(target: ReadTarget, caller: Caller): boolean {
    return !target.distribution.private || (caller.claims !== null && grants(caller.claims, target.name, 'pull'));
  }

  /** Whether the catalog lists `target.name` to the caller: it may read it, or the reach behind its catalog grant pulls it. */
  mayList(target: ReadTarget, caller: Caller): boolean {
    const { reach } = caller;
    return this.mayRead(target, caller) || (reach !== undefined && canPull(reach, target.distribution.id, target.name));
  }

  private async principal(authorization: string | undefined): Promise<Principal | null> {
    const basic = authorizationCredentials(authorization, 'basic');
    if (basic === undefined) return null;
    const decoded = Buffer.from(basic, 'base64').toString('utf8');
    const secret = decoded.slice(decoded.indexOf(':') + 1);
    const principal = secret ? await this.apiTokens.verify(secret) : null;
    if (!principal) {
      throw new RegistryError('UNAUTHORIZED', 'invalid credentials: use an API token as the password', {
        headers: { 'www-authenticate': `Basic realm="${this.tokens.realm}"` },
      });
    }
    return principal;
  }
}

function mayPull(principal: Principal | null, distribution: ServedDistribution, name: string): boolean {
  if (!distribution.private) return true;
  return principal !== null && canPull(principal, distribution.id, name);
}
