import { header, readLimited } from './body.ts';
import type { OperationContext } from './context.ts';
import { UpstreamError, displayUrl, type RequestKind } from './errors.ts';

/** The `rel="next"` target of a Link header, if any. */
export function nextLink(value: string | undefined): string | undefined {
  if (!value) return undefined;
  for (const part of value.split(/,(?=\s*<)/)) {
    const match = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (match && /;\s*rel="?next"?(\s|;|$)/i.test(match[2] ?? '')) return match[1];
  }
  return undefined;
}

export interface Page {
  status: number;
  bytes: Buffer;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * GETs `first`, then every `Link: <...>; rel="next"` until there is none.
 * Never builds `last` itself (Distribution 2.8 ignores it: a loop). Each page
 * is bounded in bytes; a Link to a page already seen, to another origin, or
 * past `maxPages` fails instead of looping.
 */
export async function* pages(
  ctx: OperationContext,
  first: URL,
  kind: RequestKind,
  accept: string,
  allowStatus: readonly number[] = [],
): AsyncGenerator<Page> {
  const seen = new Set<string>();
  let url: URL | undefined = first;
  while (url) {
    seen.add(url.href);
    if (seen.size > ctx.maxPages) {
      throw new UpstreamError('INVALID_RESPONSE', `more than ${ctx.maxPages} pages`, { url: displayUrl(url) });
    }
    const response = await ctx.core.send({ method: 'GET', url, kind, accept, allowStatus });
    const bytes = await readLimited(response.body, ctx.maxPageBytes, displayUrl(url));
    yield { status: response.status, bytes, headers: response.headers };
    if (response.status >= 300) return;
    const link = nextLink(header(response.headers, 'link'));
    if (link === undefined) return;
    const next: URL = new URL(link, url);
    if (next.origin !== url.origin) {
      throw new UpstreamError('INVALID_RESPONSE', 'a Link to another origin', { url: displayUrl(url) });
    }
    if (seen.has(next.href)) {
      throw new UpstreamError('INVALID_RESPONSE', 'a Link back to a page already read', { url: displayUrl(next) });
    }
    url = next;
  }
}
