import { request, type Dispatcher } from 'undici';
import { header } from './body.ts';
import { UpstreamError, displayUrl, type RequestKind } from './errors.ts';
import { observeHop, type ObservedHop, type RequestSource } from './observe-request.ts';
import type { RateLimitInfo } from './rate-limit.ts';

const REDIRECTS: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
/** Hops after the first request; Docker's and containerd's clients stop at 10, registries use 1 or 2. */
export const MAX_REDIRECTS = 10;

export interface FollowOptions {
  method: 'GET' | 'HEAD';
  /** What the request is for, and whose it is: every hop is counted and logged under them. */
  kind: RequestKind;
  source: RequestSource;
  dispatcher: Dispatcher;
  signal?: AbortSignal | undefined;
  /**
   * The headers for one hop. Called for every URL in the chain, so the caller
   * decides per origin what travels (credentials only to their own origin).
   */
  headersFor(url: URL): Promise<Record<string, string>>;
  /** Called after each hop's response headers arrive (or its failure, with no status), with its rate-limit reading if any. */
  onHop?(hop: ObservedHop, rateLimit: RateLimitInfo | undefined): void;
}

export interface FollowedResponse {
  raw: Dispatcher.ResponseData;
  /** Where the final response came from. */
  url: URL;
}

/**
 * A GET or HEAD that follows 301/302/303/307/308 (RFC 9110 §15.4) up to
 * MAX_REDIRECTS hops. Refuses a redirect to a scheme other than http(s), and
 * any https → http downgrade. A 303 keeps the method: only GET and HEAD are
 * sent here. Throws UpstreamError (UPSTREAM_ERROR) for a refused redirect;
 * network failures are thrown as undici raised them.
 */
export async function requestFollowing(first: URL, options: FollowOptions): Promise<FollowedResponse> {
  let url = first;
  for (let hops = 0; ; hops += 1) {
    let raw: Dispatcher.ResponseData;
    const headers = await options.headersFor(url);
    const started = performance.now();
    const observed = (status: number | undefined, received: Dispatcher.ResponseData['headers'] | undefined): void => {
      const hop = { method: options.method, kind: options.kind, url, status, headers: received, ms: performance.now() - started };
      const rateLimit = observeHop(options.source, hop);
      options.onHop?.(hop, rateLimit);
    };
    try {
      // undici closes the connection after every HEAD unless told not to (for servers that send HEAD a body);
      // registries do not, and a sync HEADs every tag: a new TCP and TLS handshake each would dominate.
      const reset = options.method === 'HEAD' ? false : undefined;
      raw = await request(url, { method: options.method, headers, dispatcher: options.dispatcher, signal: options.signal, reset });
    } catch (error) {
      observed(undefined, undefined);
      throw error;
    }
    observed(raw.statusCode, raw.headers);
    const location = header(raw.headers, 'location');
    if (!REDIRECTS.has(raw.statusCode) || location === undefined) return { raw, url };
    await raw.body.dump();
    url = redirectTarget(url, location, hops, raw.statusCode);
  }
}

function redirectTarget(from: URL, location: string, hops: number, status: number): URL {
  const refuse = (why: string) => new UpstreamError('UPSTREAM_ERROR', why, { url: displayUrl(from), status });
  let next: URL;
  try {
    next = new URL(location, from);
  } catch {
    throw refuse('a redirect to an unreadable Location');
  }
  if (next.protocol !== 'http:' && next.protocol !== 'https:') throw refuse(`a redirect to a ${next.protocol} URL refused`);
  if (from.protocol === 'https:' && next.protocol === 'http:') throw refuse('a redirect from https to http refused');
  if (hops >= MAX_REDIRECTS) throw refuse(`more than ${MAX_REDIRECTS} redirects`);
  return next;
}
