import { hkdfSync } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';

/** One grant of a Docker registry token (`access` claim), as Distribution's token auth spells it. */
export interface AccessEntry {
  type: string;
  name: string;
  actions: string[];
}

export interface TokenClaims {
  subject: string;
  access: AccessEntry[];
  /**
   * Given with a catalog grant: the API token (its id; null for
   * CISTERN_ADMIN_TOKEN) whose reach the catalog lists, looked up when it is
   * listed (a token of a thousand distributions stays a small JWT, and a
   * revoked one lists nothing private).
   */
  catalogToken?: string | null;
}

export interface IssuedToken {
  token: string;
  expiresIn: number;
  issuedAt: string;
}

export interface PullTokenOptions {
  /** SECRET_KEY: every registry process derives the same signing key, so any of them verifies any token. */
  secretKey: Buffer;
  /** PUBLIC_URL: the issuer, and where the realm lives. */
  publicUrl: string;
  /** The `service` clients name in token requests. */
  service: string;
  ttlSeconds?: number;
}

/**
 * Short-lived registry tokens (HS256 JWTs): the token endpoint issues them,
 * the registry checks them. The key is derived from SECRET_KEY for this use
 * only, so a token can never decrypt a remote's password or vice versa.
 */
export class PullTokens {
  readonly service: string;
  readonly realm: string;
  private readonly key: Uint8Array;
  private readonly issuer: string;
  private readonly ttlSeconds: number;

  constructor(options: PullTokenOptions) {
    this.key = new Uint8Array(hkdfSync('sha256', options.secretKey, Buffer.alloc(0), 'cistern registry pull tokens', 32));
    this.issuer = options.publicUrl;
    this.realm = `${options.publicUrl}/token`;
    this.service = options.service;
    this.ttlSeconds = options.ttlSeconds ?? 300;
  }

  async issue(claims: TokenClaims, now = new Date()): Promise<IssuedToken> {
    const iat = Math.floor(now.getTime() / 1000);
    const token = await new SignJWT({ access: claims.access, ...(claims.catalogToken !== undefined ? { catalogToken: claims.catalogToken } : {}) })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(this.issuer)
      .setAudience(this.service)
      .setSubject(claims.subject)
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(iat + this.ttlSeconds)
      .sign(this.key);
    return { token, expiresIn: this.ttlSeconds, issuedAt: now.toISOString() };
  }

  /** The claims of a valid, unexpired token of ours; null for anything else. */
  async verify(token: string): Promise<TokenClaims | null> {
    try {
      const { payload } = await jwtVerify(token, this.key, { issuer: this.issuer, audience: this.service, algorithms: ['HS256'] });
      const access = Array.isArray(payload['access']) ? (payload['access'] as AccessEntry[]) : [];
      const catalogToken = payload['catalogToken'];
      return { subject: payload.sub ?? '', access, ...(typeof catalogToken === 'string' || catalogToken === null ? { catalogToken } : {}) };
    } catch {
      return null;
    }
  }

  /** The `WWW-Authenticate` value of a 401: where to get a token, and for what. */
  challenge(scope?: string, error?: 'invalid_token' | 'insufficient_scope'): string {
    const parts = [`realm="${this.realm}"`, `service="${this.service}"`];
    if (scope) parts.push(`scope="${scope}"`);
    if (error) parts.push(`error="${error}"`);
    return `Bearer ${parts.join(',')}`;
  }
}

export function grants(claims: TokenClaims, repository: string, action: string): boolean {
  return claims.access.some((a) => a.type === 'repository' && a.name === repository && a.actions.includes(action));
}

/** The repository names below `prefix` (`cache/`) the claims grant `action` on: what a private pull-through distribution lists to this token. */
export function grantedBelow(claims: TokenClaims, prefix: string, action: string): string[] {
  return claims.access.filter((a) => a.type === 'repository' && a.name.startsWith(prefix) && a.actions.includes(action)).map((a) => a.name);
}
