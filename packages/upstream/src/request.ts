import { request, type Dispatcher } from 'undici';
import type { Authenticator } from './auth.ts';
import { header, readLimited } from './body.ts';
import { UpstreamError, displayUrl, errorForStatus, networkError, type RequestKind } from './errors.ts';
import type { RemoteLimits } from './limits.ts';
import { backoffMs, parseRateLimit, parseRetryAfter, sleep, type RateLimitInfo, type RetrySettings } from './retry.ts';

export interface RequestEvent {
  method: string;
  kind: RequestKind;
  /** Without credentials or query. */
  url: string;
  status: number | undefined;
  ms: number;
}

export interface RequestHooks {
  /** Called with every `ratelimit-*` reading (Docker Hub), so a sync can report what is left. */
  onRateLimit?: (info: RateLimitInfo & { url: string }) => void;
  onRequest?: (event: RequestEvent) => void;
}

export interface RequestStats {
  requests: number;
  retries: number;
  tokenFetches: number;
  /** The latest `ratelimit-*` reading, if the upstream sends one. */
  rateLimit: RateLimitInfo | undefined;
}

export interface SendOptions {
  method: 'GET' | 'HEAD';
  url: URL;
  kind: RequestKind;
  accept?: string;
  headers?: Record<string, string>;
  /** Follow 30x (blobs only: registries hand them to a CDN), never with credentials to another origin. */
  redirects?: boolean;
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

const REDIRECTS: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;
const MAX_ERROR_BODY = 64 * 1024;
/** Auth rounds per request: learn the challenge, then refresh a refused token once. */
const MAX_AUTH_ROUNDS = 2;

export interface RequestCoreSettings extends RetrySettings {
  origin: string;
  scope: string;
  dispatcher: Dispatcher;
  limits: RemoteLimits;
  auth: Authenticator;
  hooks: RequestHooks;
}

/** One upstream request with rate limiting, auth, redirects for blobs, and retries with backoff. */
export class RequestCore {
  readonly stats: RequestStats = { requests: 0, retries: 0, tokenFetches: 0, rateLimit: undefined };

  constructor(private readonly settings: RequestCoreSettings) {}

  async send(options: SendOptions): Promise<UpstreamResponse> {
    const { settings } = this;
    const maxRetries = settings.maxRetries ?? 4;
    let retries = 0;
    let authRounds = 0;
    const retry = async (waitMs: number): Promise<void> => {
      retries += 1;
      this.stats.retries += 1;
      await sleep(waitMs, options.signal);
    };
    for (;;) {
      let outcome: { response: UpstreamResponse; sentAuth: boolean };
      try {
        outcome = await this.follow(options);
      } catch (error) {
        const failure = networkError(error, displayUrl(options.url));
        if (!failure.retryable || retries >= maxRetries || options.signal?.aborted) throw failure;
        await retry(backoffMs(retries, settings));
        continue;
      }
      const { response, sentAuth } = outcome;
      const { status } = response;
      if (status < 300 || options.allowStatus?.includes(status)) return response;
      const shown = displayUrl(response.url);
      const body = (await readLimited(response.body, MAX_ERROR_BODY, shown).catch(() => Buffer.alloc(0))).toString();
      const fromRegistry = response.url.origin === settings.origin;
      if (status === 401 && fromRegistry && authRounds < MAX_AUTH_ROUNDS) {
        authRounds += 1;
        let next: 'retry' | 'fail';
        try {
          next = await settings.auth.challenge(header(response.headers, 'www-authenticate'), settings.scope, sentAuth);
        } catch (error) {
          const failure = networkError(error, shown);
          if (!failure.retryable || retries >= maxRetries) throw failure;
          authRounds -= 1;
          await retry(backoffMs(retries, settings));
          continue;
        } finally {
          this.stats.tokenFetches = settings.auth.tokenFetches;
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
      throw errorForStatus(status, options.kind, shown, body);
    }
  }

  /** Retry-After, or else a `ratelimit-remaining: 0;w=<s>` window (Docker Hub sends one or the other). */
  private tooManyRequestsWait(headers: UpstreamResponse['headers']): number | undefined {
    const after = parseRetryAfter(header(headers, 'retry-after'));
    if (after !== undefined) return after;
    const limit = parseRateLimit(header(headers, 'ratelimit-limit'), header(headers, 'ratelimit-remaining'));
    return limit?.remaining === 0 && limit.windowSeconds !== undefined ? limit.windowSeconds * 1000 : undefined;
  }

  /** One attempt: sends, and follows redirects when allowed; returns the final response. */
  private async follow(options: SendOptions): Promise<{ response: UpstreamResponse; sentAuth: boolean }> {
    const { settings } = this;
    let url = options.url;
    let trusted = true; // once a redirect leaves the registry's origin, credentials stay behind
    for (let hops = 0; ; hops += 1) {
      trusted &&= url.origin === settings.origin;
      if (trusted) await settings.limits.requestSlot();
      const authorization = trusted ? await settings.auth.header(settings.scope) : undefined;
      this.stats.tokenFetches = settings.auth.tokenFetches;
      const sentAuth = authorization !== undefined;
      const headers: Record<string, string> = { 'user-agent': 'cistern', ...options.headers };
      if (options.accept) headers.accept = options.accept;
      if (authorization) headers.authorization = authorization;
      const started = performance.now();
      this.stats.requests += 1;
      let raw: Dispatcher.ResponseData;
      try {
        raw = await request(url, { method: options.method, headers, dispatcher: settings.dispatcher, signal: options.signal });
      } catch (error) {
        this.report(options, url, undefined, started);
        throw networkError(error, displayUrl(url));
      }
      this.report(options, url, raw.statusCode, started);
      this.observeRateLimit(raw.headers, url);
      const location = header(raw.headers, 'location');
      if (!options.redirects || !REDIRECTS.has(raw.statusCode) || location === undefined) {
        return { response: { status: raw.statusCode, headers: raw.headers, body: raw.body, url }, sentAuth };
      }
      await raw.body.dump();
      const next = new URL(location, url);
      if (next.protocol !== 'http:' && next.protocol !== 'https:') {
        throw new UpstreamError('UPSTREAM_ERROR', `redirect to a ${next.protocol} URL refused`, { url: displayUrl(url), status: raw.statusCode });
      }
      if (hops >= MAX_REDIRECTS) {
        throw new UpstreamError('UPSTREAM_ERROR', 'too many redirects', { url: displayUrl(url), status: raw.statusCode });
      }
      url = next;
    }
  }

  private report(options: SendOptions, url: URL, status: number | undefined, started: number): void {
    this.settings.hooks.onRequest?.({ method: options.method, kind: options.kind, url: displayUrl(url), status, ms: performance.now() - started });
  }

  private observeRateLimit(headers: UpstreamResponse['headers'], url: URL): void {
    const info = parseRateLimit(header(headers, 'ratelimit-limit'), header(headers, 'ratelimit-remaining'));
    if (!info) return;
    this.stats.rateLimit = info;
    this.settings.hooks.onRateLimit?.({ ...info, url: displayUrl(url) });
  }
}
