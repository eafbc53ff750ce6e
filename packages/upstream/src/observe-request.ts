import type { Dispatcher } from 'undici';
import { header } from './body.ts';
import type { RequestKind } from './errors.ts';
import { readRateLimit, type RateLimitInfo } from './rate-limit.ts';
import { countUpstreamRequest, recordRateLimit } from './upstream-metrics.ts';

/** Where the debug lines of upstream requests go: a pino logger fits. */
export interface DebugLogger {
  debug(fields: Record<string, unknown>, message: string): void;
}

/** Whose requests these are: the `remote` label of the upstream metrics, and where to log them. */
export interface RequestSource {
  /** The remote's name. */
  remote: string;
  log: DebugLogger | undefined;
}

/** One HTTP request as sent: each redirect hop and each token fetch is one. */
export interface ObservedHop {
  method: string;
  kind: RequestKind;
  url: URL;
  /** Undefined when no response came. */
  status: number | undefined;
  headers: Dispatcher.ResponseData['headers'] | undefined;
  /** From sending the request to its response headers. */
  ms: number;
}

/**
 * Every HTTP request to an upstream passes here once (requestFollowing calls
 * it per hop): it is counted, a rate-limit reading in its headers is kept, and
 * it is logged at debug without query string, headers or credentials.
 * Returns the rate-limit reading, if the response carried one.
 */
export function observeHop(source: RequestSource, hop: ObservedHop): RateLimitInfo | undefined {
  countUpstreamRequest(source.remote, hop.kind, hop.status);
  // A HEAD's Content-Length is the size of what a GET would bring, not bytes received.
  const length = hop.headers && hop.method !== 'HEAD' ? Number(header(hop.headers, 'content-length')) : undefined;
  source.log?.debug(
    {
      remote: source.remote,
      // Not `kind`: a task's logger already binds its task kind under that name.
      requestKind: hop.kind,
      method: hop.method,
      url: `${hop.url.host}${hop.url.pathname}`,
      status: hop.status ?? null,
      ms: Math.round(hop.ms),
      ...(length !== undefined && Number.isSafeInteger(length) ? { bytes: length } : {}),
    },
    'upstream request',
  );
  const rateLimit = hop.headers && readRateLimit(hop.headers);
  if (rateLimit) recordRateLimit(source.remote, rateLimit);
  return rateLimit;
}
