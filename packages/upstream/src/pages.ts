import { header } from './body.ts';
import type { OperationContext } from './context.ts';
import { UpstreamError, displayUrl, type RequestKind } from './errors.ts';
import type { UpstreamResponse } from './request.ts';

/** The `rel="next"` target of a Link header, if any. */
export function nextLink(value: string | undefined): string | undefined {
  if (!value) return undefined;
  for (const part of value.split(/,(?=\s*<)/)) {
    const match = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (match && /;\s*rel="?next"?(\s|;|$)/i.test(match[2] ?? '')) return match[1];
  }
  return undefined;
}

/**
 * GETs `first`, then every `Link: <...>; rel="next"` until there is none, and
 * yields each response with its body unread: the caller reads it (bounded, or
 * as a stream) or discards it before asking for the next page. Never builds
 * `last` itself (Distribution 2.8 ignores it: a loop). A Link to a page
 * already seen, to another origin than the page's, or past `maxPages` fails
 * with INVALID_RESPONSE instead of looping.
 */
export async function* pages(
  ctx: OperationContext,
  first: URL,
  kind: RequestKind,
  accept: string,
  allowStatus: readonly number[] = [],
): AsyncGenerator<UpstreamResponse> {
  const seen = new Set<string>();
  let url: URL | undefined = first;
  while (url) {
    seen.add(url.href);
    if (seen.size > ctx.maxPages) {
      throw new UpstreamError('INVALID_RESPONSE', `more than ${ctx.maxPages} pages`, { url: displayUrl(url) });
    }
    const response = await ctx.core.send({ method: 'GET', url, kind, accept, allowStatus });
    yield response;
    if (response.status >= 300) return;
    const link = nextLink(header(response.headers, 'link'));
    if (link === undefined) return;
    // Relative to where the page came from: after a redirect, that is the redirect's target.
    const next: URL = new URL(link, response.url);
    if (next.origin !== response.url.origin) {
      throw new UpstreamError('INVALID_RESPONSE', 'a Link to another origin', { url: displayUrl(url) });
    }
    if (seen.has(next.href)) {
      throw new UpstreamError('INVALID_RESPONSE', 'a Link back to a page already read', { url: displayUrl(next) });
    }
    url = next;
  }
}
