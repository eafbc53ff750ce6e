import type { Dispatcher } from 'undici';
import { eitherSignal } from './abort.ts';
import type { OriginAuths } from './auth.ts';
import { header, readLimited } from './body.ts';
import { UpstreamError, displayUrl, errorForStatus, networkError, type RequestKind } from './errors.ts';
import type { RemoteLimits } from './limits.ts';
import type { ObservedHop, RequestSource } from './observe-request.ts';
import { readRateLimit, type RateLimitInfo } from './rate-limit.ts';
import { requestFollowing } from './redirects.ts';
import { backoffMs, parseRetryAfter, sleep, type RetrySettings } from './retry.ts';
import { countUpstreamRetry } from './upstream-metrics.ts';

export interface RequestEvent {
  method: string;
  kind: RequestKind;
  /** Without credentials or query. */
  url: string;
  status: number | undefined;
  ms: number;
}

export interface RequestHooks {
  /** Called with every rate-limit reading (Docker Hub's `ratelimit-*`, the IETF `RateLimit` forms), so a sync can report what is left. */
  onRateLimit?: (info: RateLimitInfo & { url: string }) => void;
  onRequest?: (event: RequestEvent) => void;
}

export interface RequestStats {
  requests: number;
  retries: number;
  tokenFetches: number;
  /** The latest rate-limit reading, if the upstream sends one. */
  rateLimit: RateLimitInfo | undefined;
}

export interface SendOptions {
  method: 'GET' | 'HEAD';
  url: URL;
  kind: RequestKind;
  accept?: string;
  headers?: Record<string, string>;
  /** Statuses handed back instead of thrown (e.g. 404 of the Referrers API). */
  allowStatus?: readonly number[];
  signal?: AbortSignal | undefined;
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
  /** Where the response came from, after redirects. */
  url: URL;
}

const MAX_ERROR_BODY = 64 * 1024;
/** Auth rounds per origin and request: learn the challenge, then refresh a refused token once. */
const MAX_AUTH_ROUNDS = 2;
/**
 * Auth rounds per request over all origins: the registry and one redirect
 * target each learning a challenge and refreshing once. An upstream that
 * redirects to ever new origins, each challenging, stops here.
 */
const MAX_AUTH_ROUNDS_TOTAL = 4;

export interface RequestCoreSettings extends RetrySettings {
  scope: string;
  dispatcher: Dispatcher;
  limits: RemoteLimits;
  /**
   * The auth state of each origin: the registry's own carries its credentials;
   * any other origin (a redirect target) gets one without, so it is
   * authenticated only on its own terms, by its own challenge.
   */
  auths: OriginAuths;
  hooks: RequestHooks;
  /** The remote's name and logger: every request, token fetches included, is counted and logged under them. */
  source: RequestSource;
  /** Aborts every request of this core, its token fetches and waits (a task's cancel). */
  signal?: AbortSignal | undefined;
}

/**
 * One upstream request with rate limiting, per-origin auth, redirects (every
 * request: registry.k8s.io redirects them all), and retries with backoff.
 */
export class RequestCore {
  readonly stats: RequestStats = { requests: 0, retries: 0, tokenFetches: 0, rateLimit: undefined };

  constructor(private readonly settings: RequestCoreSettings) {}

  async send(options: SendOptions): Promise<UpstreamResponse> {
    const { settings } = this;
    const maxRetries = settings.maxRetries ?? 4;
    const signal = eitherSignal(settings.signal, options.signal);
    let retries = 0;
    const authRounds = new Map<string, number>();
    let totalAuthRounds = 0;
    const retry = async (waitMs: number): Promise<void> => {
      retries += 1;
      this.retried(options.kind);
      await sleep(waitMs, signal);
    };
    for (;;) {
      let outcome: { response: UpstreamResponse; sentAuth: boolean };
      try {
        outcome = await this.follow(options, signal);
      } catch (error) {
        const failure = networkError(error, displayUrl(options.url));
        if (!failure.retryable || retries >= maxRetries || signal?.aborted) throw failure;
        await retry(backoffMs(retries, settings));
        continue;
      }
      const { response, sentAuth } = outcome;
      const { status } = response;
      if (status < 300 || options.allowStatus?.includes(status)) return response;
      const shown = displayUrl(response.url);
      const body = (await readLimited(response.body, MAX_ERROR_BODY, shown).catch(() => Buffer.alloc(0))).toString();
      const { origin } = response.url;
      const rounds = authRounds.get(origin) ?? 0;
      if (status === 401 && totalAuthRounds >= MAX_AUTH_ROUNDS_TOTAL) {
        throw new UpstreamError(
          'UNAUTHORIZED',
          `upstream still asked for authentication after ${MAX_AUTH_ROUNDS_TOTAL} rounds over ${authRounds.size} origins`,
          { status, url: shown },
        );
      }
      if (status === 401 && rounds < MAX_AUTH_ROUNDS) {
        const auth = settings.auths.for(origin);
        authRounds.set(origin, rounds + 1);
        totalAuthRounds += 1;
        let next: 'retry' | 'fail';
        try {
          next = await auth.challenge(header(response.headers, 'www-authenticate'), settings.scope, sentAuth, settings.source, signal);
        } catch (error) {
          const failure = networkError(error, shown);
          if (!failure.retryable || retries >= maxRetries || signal?.aborted) throw failure;
          authRounds.set(origin, rounds);
          totalAuthRounds -= 1;
          await retry(backoffMs(retries, settings));
          continue;
        } finally {
          this.countTokenFetches();
        }
        if (next === 'retry') continue;
      }
      if (status === 429) {
        const retryAfterMs = this.tooManyRequestsWait(response.headers);
        const long = retryAfterMs !== undefined && retryAfterMs > (settings.maxRetryAfterMs ?? 60_000);
        if (!long && retries < maxRetries) {
          await retry(retryAfterMs ?? backoffMs(retries, settings));
          continue;
        }
        throw errorForStatus(status, options.kind, shown, body, retryAfterMs);
      }
      if (status >= 500 && retries < maxRetries) {
        await retry(backoffMs(retries, settings));
        continue;
      }
      if (status === 401) {
        const refusal = unauthorized(settings.auths, origin, sentAuth, header(response.headers, 'www-authenticate'));
        if (refusal) throw new UpstreamError('UNAUTHORIZED', refusal, { status, url: shown });
      }
      throw errorForStatus(status, options.kind, shown, body);
    }
  }

  /** Counts one retry of a request or transfer of `kind`, in `stats` and in the upstream metrics. */
  retried(kind: RequestKind): void {
    this.stats.retries += 1;
    countUpstreamRetry(this.settings.source.remote, kind);
  }

  /** Retry-After, or else a `ratelimit-remaining: 0;w=<s>` window (Docker Hub sends one or the other). */
  private tooManyRequestsWait(headers: UpstreamResponse['headers']): number | undefined {
    const after = parseRetryAfter(header(headers, 'retry-after'));
    if (after !== undefined) return after;
    const limit = readRateLimit(headers);
    return limit?.remaining === 0 && limit.windowSeconds !== undefined ? limit.windowSeconds * 1000 : undefined;
  }

  /**
   * One attempt, redirects followed. Each hop carries the Authorization of its
   * own origin's auth state, never another origin's.
   */
  private async follow(options: SendOptions, signal: AbortSignal | undefined): Promise<{ response: UpstreamResponse; sentAuth: boolean }> {
    const { settings } = this;
    await settings.limits.requestSlot(signal);
    let sentAuth = false;
    const { raw, url } = await requestFollowing(options.url, {
      method: options.method,
      kind: options.kind,
      source: settings.source,
      dispatcher: settings.dispatcher,
      signal,
      headersFor: async (hop) => {
        const authorization = await settings.auths.for(hop.origin).header(settings.scope, settings.source, signal);
        this.countTokenFetches();
        sentAuth = authorization !== undefined;
        const headers: Record<string, string> = { 'user-agent': 'cistern', ...options.headers };
        if (options.accept) headers.accept = options.accept;
        if (authorization) headers.authorization = authorization;
        this.stats.requests += 1;
        return headers;
      },
      onHop: (hop, rateLimit) => this.report(hop, rateLimit),
    });
    return { response: { status: raw.statusCode, headers: raw.headers, body: raw.body, url }, sentAuth };
  }

  /** `stats.tokenFetches` counts the fetches of the registry's auth state (shared per remote) and of this core's other origins. */
  private countTokenFetches(): void {
    this.stats.tokenFetches = this.settings.auths.tokenFetches;
  }

  private report(hop: ObservedHop, rateLimit: RateLimitInfo | undefined): void {
    const url = displayUrl(hop.url);
    this.settings.hooks.onRequest?.({ method: hop.method, kind: hop.kind, url, status: hop.status, ms: hop.ms });
    if (!rateLimit) return;
    this.stats.rateLimit = rateLimit;
    this.settings.hooks.onRateLimit?.({ ...rateLimit, url });
  }
}

/**
 * Why a final 401 is not a refusal of credentials, or undefined when it is
 * one: the remote has none, the origin is a redirect target (which never gets
 * them), or the challenge was one no credentials answer.
 */
function unauthorized(auths: OriginAuths, origin: string, sentAuth: boolean, challenge: string | undefined): string | undefined {
  if (!auths.isRegistry(origin)) return `${origin}, where the upstream redirected, requires credentials: the remote's are sent only to the remote's own origin`;
  if (!auths.for(origin).hasCredentials) return 'upstream requires credentials and the remote has none: set username and password on the remote';
  if (!sentAuth)
    return `upstream asked for authentication Cistern cannot answer (WWW-Authenticate: ${challenge?.slice(0, 200) ?? 'none'}); it answers Basic and Bearer with a realm`;
  return undefined;
}
