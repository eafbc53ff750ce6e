import type { OperationContext } from './context.ts';
import { UpstreamError, displayUrl } from './errors.ts';
import { pages } from './pages.ts';

export interface TagListOptions {
  /** Asks for pages of this size (`n`); registries may ignore it. */
  pageSize?: number;
}

/** Tag names page by page, so a repository of 50,000 tags is never held twice. */
export async function* tagPages(ctx: OperationContext, options: TagListOptions = {}): AsyncGenerator<string[]> {
  const first = new URL(`${ctx.base}/tags/list`);
  if (options.pageSize !== undefined) first.searchParams.set('n', String(options.pageSize));
  for await (const page of pages(ctx, first, 'tags', 'application/json')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(page.bytes.toString('utf8'));
    } catch {
      throw new UpstreamError('INVALID_RESPONSE', 'the tag list is not JSON', { url: displayUrl(first) });
    }
    const tags = (parsed as { tags?: unknown } | null)?.tags ?? [];
    if (!Array.isArray(tags) || !tags.every((t): t is string => typeof t === 'string')) {
      throw new UpstreamError('INVALID_RESPONSE', 'the tag list has no string array `tags`', { url: displayUrl(first) });
    }
    yield tags;
  }
}
