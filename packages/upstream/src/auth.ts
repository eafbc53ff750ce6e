import { request, type Dispatcher } from 'undici';
import { parseWwwAuthenticate, type Challenge } from './challenge.ts';
import { UpstreamError, displayUrl, networkError } from './errors.ts';
import { readLimited } from './body.ts';

export interface Credentials {
  username: string;
  password: string;
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

/** What a 401 leads to: ask again with new credentials, or give up. */
export type ChallengeOutcome = 'retry' | 'fail';

const MAX_TOKEN_RESPONSE = 256 * 1024;

/**
 * The auth state of one remote (shared by its clients): which scheme the
 * registry asked for, and Bearer tokens cached per realm, service and scope
 * until `expires_in` runs out. Concurrent requests for one scope share one
 * token fetch.
 */
export class Authenticator {
  private scheme: 'basic' | 'bearer' | undefined;
  private bearer: { realm: string; service: string | undefined } | undefined;
  private readonly tokens = new Map<string, Promise<CachedToken>>();
  tokenFetches = 0;

  constructor(
    private readonly credentials: Credentials | undefined,
    private readonly dispatcher: Dispatcher,
  ) {}

  /** The Authorization header to send for a scope, fetching a token if the registry wants Bearer. */
  async header(scope: string): Promise<string | undefined> {
    if (this.scheme === 'basic') return this.basic();
    if (this.scheme !== 'bearer' || !this.bearer) return undefined;
    return `Bearer ${(await this.token(this.bearer.realm, this.bearer.service, scope)).token}`;
  }

  /**
   * Handles a 401. `rejected` says the request carried credentials that the
   * registry refused: a cached token is dropped and fetched anew; refused
   * Basic credentials are final.
   */
  async challenge(header: string | undefined, scope: string, rejected: boolean): Promise<ChallengeOutcome> {
    const challenges = parseWwwAuthenticate(header ?? '');
    const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params.realm);
    if (bearer) return this.takeBearer(bearer, scope, rejected);
    if (challenges.some((c) => c.scheme === 'basic') && this.credentials && !(rejected && this.scheme === 'basic')) {
      this.scheme = 'basic';
      return 'retry';
    }
    return 'fail';
  }

  private async takeBearer(challenge: Challenge, scope: string, rejected: boolean): Promise<ChallengeOutcome> {
    const realm = challenge.params.realm ?? '';
    let realmUrl: URL;
    try {
      realmUrl = new URL(realm);
    } catch {
      return 'fail';
    }
    if (realmUrl.protocol !== 'https:' && realmUrl.protocol !== 'http:') return 'fail';
    this.scheme = 'bearer';
    this.bearer = { realm, service: challenge.params.service };
    // insufficient_scope names the scope wanted; the token is cached under the request's scope.
    const wanted = challenge.params.scope ?? scope;
    const key = this.key(realm, this.bearer.service, scope);
    if (rejected || wanted !== scope) this.tokens.delete(key);
    await this.token(realm, this.bearer.service, scope, wanted);
    return 'retry';
  }

  private key(realm: string, service: string | undefined, scope: string): string {
    return `${realm}\n${service ?? ''}\n${scope}`;
  }

  private basic(): string | undefined {
    if (!this.credentials) return undefined;
    return `Basic ${Buffer.from(`${this.credentials.username}:${this.credentials.password}`).toString('base64')}`;
  }

  private async token(realm: string, service: string | undefined, scope: string, ask = scope): Promise<CachedToken> {
    const key = this.key(realm, service, scope);
    const cached = this.tokens.get(key);
    if (cached) {
      const token = await cached.catch(() => undefined);
      if (token && token.expiresAt > Date.now()) return token;
      // Expired or failed: drop it, unless another caller already replaced it (then share theirs).
      if (this.tokens.get(key) !== cached) return this.token(realm, service, scope, ask);
      this.tokens.delete(key);
    }
    const pending = this.fetchToken(realm, service, ask);
    this.tokens.set(key, pending);
    pending.catch(() => {
      if (this.tokens.get(key) === pending) this.tokens.delete(key);
    });
    return pending;
  }

  private async fetchToken(realm: string, service: string | undefined, scope: string): Promise<CachedToken> {
    const url = new URL(realm);
    if (service) url.searchParams.set('service', service);
    for (const s of scope.split(' ').filter(Boolean)) url.searchParams.append('scope', s);
    const shown = displayUrl(url);
    const authorization = this.basic();
    this.tokenFetches += 1;
    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, {
        method: 'GET',
        dispatcher: this.dispatcher,
        headers: { accept: 'application/json', ...(authorization ? { authorization } : {}) },
      });
    } catch (error) {
      throw networkError(error, shown);
    }
    const text = (await readLimited(response.body, MAX_TOKEN_RESPONSE, shown)).toString();
    if (response.statusCode === 401 || response.statusCode === 403) {
      throw new UpstreamError('UNAUTHORIZED', 'the token realm refused the credentials', { status: response.statusCode, url: shown });
    }
    if (response.statusCode >= 500) {
      throw new UpstreamError('UPSTREAM_UNAVAILABLE', 'the token realm failed', { status: response.statusCode, url: shown });
    }
    if (response.statusCode !== 200) {
      throw new UpstreamError('UPSTREAM_ERROR', 'the token realm answered unexpectedly', { status: response.statusCode, url: shown });
    }
    let parsed: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      throw new UpstreamError('INVALID_RESPONSE', 'the token realm answered no JSON', { url: shown });
    }
    const token = typeof parsed.token === 'string' && parsed.token ? parsed.token : parsed.access_token;
    if (typeof token !== 'string' || token === '') {
      throw new UpstreamError('INVALID_RESPONSE', 'the token realm answered no token', { url: shown });
    }
    const seconds = typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? parsed.expires_in : 60;
    // Renew a little early so a token never expires in flight.
    const margin = Math.min(5_000, seconds * 100);
    return { token, expiresAt: Date.now() + seconds * 1000 - margin };
  }
}
