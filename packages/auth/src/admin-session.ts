import { createHmac, hkdfSync } from 'node:crypto';
import { secretsEqual } from '@cistern/config';
import { hashSecret } from './secret.ts';
import type { Principal, TokenService } from './token-service.ts';

/** Twelve hours: a working day at the dashboard without logging in again. */
const DEFAULT_TTL_MS = 12 * 3600 * 1000;

/** What a login with a token gave: a session value for the cookie, or why it was refused. */
export type AdminLogin =
  | { ok: true; value: string; expiresAt: Date; principal: Principal }
  /** The token is unknown, revoked or expired. */
  | { ok: false; code: 'TOKEN_UNKNOWN' }
  /** A valid token that is not an admin token (a pull token). */
  | { ok: false; code: 'NOT_ADMIN'; principal: Principal };

function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

/**
 * Browser sessions for the admin pages (the queue dashboard), opened with an
 * admin token. A session value is `<payload>.<mac>`, both base64url: the
 * payload is JSON `{h, exp}` where `h` is the token's `hashSecret` (what the
 * database keeps; the token itself is never in the value) and `exp` its end
 * in unix seconds; the mac is HMAC-SHA256 under a key derived from
 * SECRET_KEY, so every process of an installation accepts it. Each check
 * looks the token up again: revoking or expiring the token ends its sessions
 * at once, and so does changing CISTERN_ADMIN_TOKEN for sessions opened with it.
 */
export class AdminSessions {
  private readonly key: Buffer;

  /**
   * @param secretKey the installation's SECRET_KEY (32 bytes); the session key is derived from it, never equal to it.
   * @param ttlMs how long a session lasts after login, in milliseconds.
   */
  constructor(
    private readonly tokens: Pick<TokenService, 'verify' | 'verifyHash'>,
    secretKey: Buffer,
    private readonly ttlMs = DEFAULT_TTL_MS,
  ) {
    this.key = Buffer.from(hkdfSync('sha256', secretKey, Buffer.alloc(0), 'cistern admin session', 32));
  }

  /** Opens a session for `secret` if it is a valid admin token. */
  async open(secret: string, now = new Date()): Promise<AdminLogin> {
    const principal = await this.tokens.verify(secret, now);
    if (!principal) return { ok: false, code: 'TOKEN_UNKNOWN' };
    if (principal.scope !== 'admin') return { ok: false, code: 'NOT_ADMIN', principal };
    const expiresAt = new Date(now.getTime() + this.ttlMs);
    const payload = base64url(JSON.stringify({ h: hashSecret(secret), exp: Math.floor(expiresAt.getTime() / 1000) }));
    return { ok: true, value: `${payload}.${this.mac(payload)}`, expiresAt, principal };
  }

  /** The admin a session value stands for, or null if it is forged, malformed, expired, or its token no longer works. */
  async check(value: string, now = new Date()): Promise<Principal | null> {
    const [payload, mac, ...rest] = value.split('.');
    if (!payload || !mac || rest.length > 0 || !secretsEqual(mac, this.mac(payload))) return null;
    let claims: unknown;
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      return null;
    }
    const { h, exp } = (claims ?? {}) as { h?: unknown; exp?: unknown };
    if (typeof h !== 'string' || typeof exp !== 'number' || exp * 1000 <= now.getTime()) return null;
    const principal = await this.tokens.verifyHash(h, now);
    return principal?.scope === 'admin' ? principal : null;
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }
}
