import type { Dispatcher } from 'undici';
import { abortable } from './abort.ts';
import { parseWwwAuthenticate, type Challenge } from './challenge.ts';
import { UpstreamError, displayUrl, networkError } from './errors.ts';
import { readLimited } from './body.ts';
import type { RequestSource } from './observe-request.ts';
import { requestFollowing } from './redirects.ts';

export interface Credentials {
  username: string;
  password: string;
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

/** A token fetch shared by every request that wants it; aborted only when all of them gave up. */
interface TokenFetch {
  promise: Promise<CachedToken>;
  controller: AbortController;
  waiters: number;
}

/** A token asked of `realm` for `service`: cached under `scope`, asked for as `ask` (the scope a challenge named). */
interface TokenWanted {
  realm: string;
  service: string | undefined;
  scope: string;
  ask: string;
}

/** What a 401 leads to: ask again with new credentials, or give up. */
export type ChallengeOutcome = 'retry' | 'fail';

const MAX_TOKEN_RESPONSE = 256 * 1024;
/** Other origins (redirect targets) whose auth state one client keeps; past it, the least recently used is dropped. */
const MAX_OTHER_ORIGINS = 16;

/**
 * The auth state of one origin of one remote (shared by its clients): which
 * scheme the origin asked for, and Bearer tokens cached per realm, service and
 * scope until `expires_in` runs out. Concurrent requests for one scope share
 * one token fetch. Credentials (Basic, or sent to the token realm) exist only
 * for the registry's own origin; other origins get an instance without any.
 */
export class Authenticator {
  private scheme: 'basic' | 'bearer' | undefined;
  private bearer: { realm: string; service: string | undefined } | undefined;
  private readonly tokens = new Map<string, TokenFetch>();
  tokenFetches = 0;

  /**
   * `secure`: the registry is reached over https, so its credentials never
   * travel in plain text, not even to a token realm it names on `http:`.
   */
  constructor(
    private readonly credentials: Credentials | undefined,
    private readonly dispatcher: Dispatcher,
    private readonly secure = false,
  ) {}

  /** Whether this origin has credentials to send (only the remote's own origin can). */
  get hasCredentials(): boolean {
    return this.credentials !== undefined;
  }

  /**
   * The Authorization header to send for a scope, fetching a token if the
   * origin wants Bearer; a token fetch is counted and logged under `source`.
   */
  async header(scope: string, source: RequestSource, signal?: AbortSignal): Promise<string | undefined> {
    if (this.scheme === 'basic') return this.basic();
    if (this.scheme !== 'bearer' || !this.bearer) return undefined;
    return `Bearer ${(await this.token({ realm: this.bearer.realm, service: this.bearer.service, scope, ask: scope }, source, signal)).token}`;
  }

  /**
   * Handles a 401. `rejected` says the request carried credentials that the
   * registry refused: a cached token is dropped and fetched anew; refused
   * Basic credentials are final.
   */
  async challenge(header: string | undefined, scope: string, rejected: boolean, source: RequestSource, signal?: AbortSignal): Promise<ChallengeOutcome> {
    const challenges = parseWwwAuthenticate(header ?? '');
    const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params.realm);
    if (bearer) return this.takeBearer(bearer, { scope, rejected, source }, signal);
    if (challenges.some((c) => c.scheme === 'basic') && this.credentials && !(rejected && this.scheme === 'basic')) {
      this.scheme = 'basic';
      return 'retry';
    }
    return 'fail';
  }

  private async takeBearer(
    challenge: Challenge,
    { scope, rejected, source }: { scope: string; rejected: boolean; source: RequestSource },
    signal: AbortSignal | undefined,
  ): Promise<ChallengeOutcome> {
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
    await this.token({ realm, service: this.bearer.service, scope, ask: wanted }, source, signal);
    return 'retry';
  }

  private key(realm: string, service: string | undefined, scope: string): string {
    return `${realm}\n${service ?? ''}\n${scope}`;
  }

  private basic(): string | undefined {
    if (!this.credentials) return undefined;
    return `Basic ${Buffer.from(`${this.credentials.username}:${this.credentials.password}`).toString('base64')}`;
  }

  /** The token for `scope`, cached or fetched (asking the realm for `ask`). */
  private async token(wanted: TokenWanted, source: RequestSource, signal: AbortSignal | undefined): Promise<CachedToken> {
    const { realm, service, scope } = wanted;
    const key = this.key(realm, service, scope);
    const cached = this.tokens.get(key);
    if (cached) {
      const token = await this.wait(cached, signal).catch((error: unknown) => {
        if (signal?.aborted) throw error;
        return undefined;
      });
      if (token && token.expiresAt > Date.now()) return token;
      // Expired or failed: drop it, unless another caller already replaced it (then share theirs).
      if (this.tokens.get(key) !== cached) return this.token(wanted, source, signal);
      this.tokens.delete(key);
    }
    const controller = new AbortController();
    const fetch: TokenFetch = { promise: this.fetchToken(wanted, source, controller.signal), controller, waiters: 0 };
    this.tokens.set(key, fetch);
    fetch.promise.catch(() => {
      if (this.tokens.get(key) === fetch) this.tokens.delete(key);
    });
    return this.wait(fetch, signal);
  }

  private async wait(fetch: TokenFetch, signal: AbortSignal | undefined): Promise<CachedToken> {
    fetch.waiters += 1;
    try {
      return await abortable(fetch.promise, signal);
    } finally {
      fetch.waiters -= 1;
      if (signal?.aborted && fetch.waiters === 0) fetch.controller.abort(signal.reason);
    }
  }

  /** Why the token realm said no: what was sent to it decides what the user must change. */
  private realmRefusal(sent: boolean): string {
    if (sent) return 'the token realm refused the credentials';
    if (!this.credentials)
      return 'the token realm refused an anonymous token: the upstream requires credentials and the remote has none: set username and password on the remote';
    return "the token realm refused an anonymous token: it is on http: and the remote's credentials are sent over https only";
  }

  /**
   * GET of the token realm; credentials go to the realm's own origin only,
   * never along a redirect, and never over http for an https registry (the
   * token is asked for anonymously then, which a realm usually refuses).
   */
  private async fetchToken({ realm, service, ask }: TokenWanted, source: RequestSource, signal: AbortSignal): Promise<CachedToken> {
    const url = new URL(realm);
    if (service) url.searchParams.set('service', service);
    for (const s of ask.split(' ').filter(Boolean)) url.searchParams.append('scope', s);
    const shown = displayUrl(url);
    const authorization = this.secure && url.protocol !== 'https:' ? undefined : this.basic();
    this.tokenFetches += 1;
    let response: Dispatcher.ResponseData;
    try {
      ({ raw: response } = await requestFollowing(url, {
        method: 'GET',
        kind: 'token',
        source,
        dispatcher: this.dispatcher,
        signal,
        headersFor: async (hop) => ({
          accept: 'application/json',
          ...(authorization && hop.origin === url.origin ? { authorization } : {}),
        }),
      }));
    } catch (error) {
      throw networkError(error, shown);
    }
    const text = (await readLimited(response.body, MAX_TOKEN_RESPONSE, shown)).toString();
    if (response.statusCode === 401 || response.statusCode === 403) {
      throw new UpstreamError('UNAUTHORIZED', this.realmRefusal(authorization !== undefined), { status: response.statusCode, url: shown });
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

/**
 * The auth states one client uses: the registry's own (shared by the remote's
 * clients, with its credentials), and one without credentials per other origin
 * a redirect leads to. Those belong to this client only and are bounded: an
 * upstream that redirects to ever new origins cannot grow them.
 */
export class OriginAuths {
  private readonly others = new Map<string, Authenticator>();
  /** Token fetches of the other origins' states already dropped. */
  private dropped = 0;

  constructor(
    private readonly origin: string,
    private readonly registry: Authenticator,
    private readonly dispatcher: Dispatcher,
  ) {}

  /** Whether `origin` is the remote's own, the one origin its credentials go to. */
  isRegistry(origin: string): boolean {
    return origin === this.origin;
  }

  for(origin: string): Authenticator {
    if (origin === this.origin) return this.registry;
    let auth = this.others.get(origin);
    if (auth) {
      this.others.delete(origin);
    } else {
      auth = new Authenticator(undefined, this.dispatcher);
    }
    this.others.set(origin, auth);
    for (const [oldest, state] of this.others) {
      if (this.others.size <= MAX_OTHER_ORIGINS) break;
      this.others.delete(oldest);
      this.dropped += state.tokenFetches;
    }
    return auth;
  }

  /** Token fetches of the registry's state (by any client of the remote) and of this client's other origins. */
  get tokenFetches(): number {
    let fetches = this.registry.tokenFetches + this.dropped;
    for (const auth of this.others.values()) fetches += auth.tokenFetches;
    return fetches;
  }
}
