import { JSONParser } from '@streamparser/json';
import { discard } from './body.ts';
import type { OperationContext } from './context.ts';
import { UpstreamError, displayUrl } from './errors.ts';
import { pages } from './pages.ts';

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
    const shown = displayUrl(page.url);
    const invalid = (why: string) => new UpstreamError('INVALID_RESPONSE', `the tag list ${why}`, { url: shown });
    const parser = new JSONParser({ paths: ['$.tags.*'], keepStack: false });
    let batch: string[] = [];
    let sinceTag = 0;
    parser.onValue = ({ value }) => {
      if (typeof value !== 'string') throw invalid('has a tag that is not a string');
      batch.push(value);
      sinceTag = 0;
    };
    try {
      for await (const chunk of page.body as AsyncIterable<Buffer>) {
        sinceTag += chunk.length;
        if (sinceTag > ctx.maxPageBytes) throw new UpstreamError('SIZE_INVALID', `the tag list has ${ctx.maxPageBytes} bytes without a tag`, { url: shown });
        if (parser.isEnded) throw invalid('goes on after its JSON document');
        try {
          parser.write(chunk);
        } catch (error) {
          if (error instanceof UpstreamError) throw error;
          throw invalid(`is not JSON: ${(error as Error).message}`);
        }
        if (batch.length >= BATCH) {
          yield batch;
          batch = [];
        }
      }
    } catch (error) {
      discard(page.body);
      throw error;
    }
    if (!parser.isEnded) throw invalid('is not a whole JSON document');
    if (batch.length > 0) yield batch;
  }
}
