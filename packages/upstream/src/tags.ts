import { JSONParser } from '@streamparser/json';
import { discard } from './body.ts';
import type { OperationContext } from './context.ts';
import { UpstreamError, displayUrl, networkError } from './errors.ts';
import { pages } from './pages.ts';
import type { UpstreamResponse } from './request.ts';

export interface TagListOptions {
  /** Asks for pages of this size (`n`); registries may ignore it. */
  pageSize?: number;
}

/** Tags handed on at a time while a page streams in. */
const BATCH = 1000;

/**
 * Tag names in batches, each page read as a stream: Distribution answers every
 * tag of a repository in one body (40 MB for a million tags), so no page is
 * ever held whole. `{"tags": null}` (an empty repository) is no tags. Fails
 * with INVALID_RESPONSE for a body that is not JSON or a tag that is not a
 * string, and SIZE_INVALID for a stretch of `maxPageBytes` without a tag.
 */
export async function* tagPages(ctx: OperationContext, options: TagListOptions = {}): AsyncGenerator<string[]> {
  const first = new URL(`${ctx.base}/tags/list`);
  if (options.pageSize !== undefined) first.searchParams.set('n', String(options.pageSize));
  for await (const page of pages(ctx, first, 'tags', 'application/json')) {
    const reading = readAhead(page, ctx.maxPageBytes);
    try {
      for (;;) {
        const batch = await reading.next();
        if (batch === undefined) break;
        yield batch;
      }
    } finally {
      reading.stop();
    }
  }
}

/**
 * Reads a tag-list body to its end at the network's pace, handing on batches
 * as they are parsed. The body is never left half-read while the sync works
 * through the tags: a response paused for minutes is cut by upstreams that
 * close idle connections ("other side closed"), and only the tag names are
 * kept (about 60 MB for a million), never the body.
 */
function readAhead(page: UpstreamResponse, maxPageBytes: number): { next(): Promise<string[] | undefined>; stop(): void } {
  const shown = displayUrl(page.url);
  const invalid = (why: string) => new UpstreamError('INVALID_RESPONSE', `the tag list ${why}`, { url: shown });
  const parser = new JSONParser({ paths: ['$.tags.*'], keepStack: false });
  const ready: string[][] = [];
  let batch: string[] = [];
  let sinceTag = 0;
  let ended = false;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  parser.onValue = ({ value }) => {
    if (typeof value !== 'string') throw invalid('has a tag that is not a string');
    batch.push(value);
    sinceTag = 0;
  };
  const hand = (): void => {
    if (batch.length > 0) ready.push(batch);
    batch = [];
    wake?.();
  };
  void (async () => {
    try {
      for await (const chunk of page.body as AsyncIterable<Buffer>) {
        sinceTag += chunk.length;
        if (sinceTag > maxPageBytes) throw new UpstreamError('SIZE_INVALID', `the tag list has ${maxPageBytes} bytes without a tag`, { url: shown });
        if (parser.isEnded) throw invalid('goes on after its JSON document');
        try {
          parser.write(chunk);
        } catch (error) {
          if (error instanceof UpstreamError) throw error;
          throw invalid(`is not JSON: ${(error as Error).message}`);
        }
        if (batch.length >= BATCH) hand();
      }
      if (!parser.isEnded) throw invalid('is not a whole JSON document');
    } catch (error) {
      discard(page.body);
      failure = { error: error instanceof UpstreamError ? error : networkError(error, shown) };
    }
    ended = true;
    hand();
  })();
  return {
    next: async () => {
      while (ready.length === 0 && !ended) await new Promise<void>((resolve) => (wake = resolve));
      const next = ready.shift();
      if (next !== undefined) return next;
      if (failure) throw failure.error;
      return undefined;
    },
    stop: () => {
      if (!ended) discard(page.body);
    },
  };
}
