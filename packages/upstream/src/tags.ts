import { JSONParser } from '@streamparser/json';
import { isTag } from '@cistern/oci';
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
 * Most memory held in tag names parsed ahead of the consumer, in bytes (a name
 * costs its characters plus about NAME_OVERHEAD): past it, reading pauses
 * until the sync has worked through some. About a million names of 40
 * characters; half as many of 128.
 */
const MAX_HELD_BYTES = 64 * 1024 * 1024;
const NAME_OVERHEAD = 32;
const weight = (names: readonly string[]): number => names.reduce((bytes, name) => bytes + name.length + NAME_OVERHEAD, 0);

/**
 * Tag names in batches, each page read as a stream: Distribution answers every
 * tag of a repository in one body (40 MB for a million tags). What is held is
 * the tag names parsed ahead of the consumer, up to MAX_HELD_BYTES, never the body
 * itself; strings in the list that are not tags are dropped as they are parsed.
 * `{"tags": null}` (an empty repository), a body without `tags`, or one whose
 * `tags` is not a list of values (a string, a number) is no tags. Fails with
 * INVALID_RESPONSE for a body that is not JSON, a `tags` object, or a tag that
 * is not a string, and SIZE_INVALID for a stretch of `maxPageBytes` without a
 * string in the list.
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
 * Reads a tag-list body ahead of the consumer, handing on batches as they are
 * parsed. Reading ahead at all is deliberate: a response left unread while the
 * sync works through its tags is cut by upstreams that close idle connections
 * ("other side closed"). It pauses only while MAX_HELD_BYTES of names wait, so a body
 * of any length (an endless one included) holds bounded memory.
 */
function readAhead(page: UpstreamResponse, maxPageBytes: number): { next(): Promise<string[] | undefined>; stop(): void } {
  const shown = displayUrl(page.url);
  const invalid = (why: string) => new UpstreamError('INVALID_RESPONSE', `the tag list ${why}`, { url: shown });
  const parser = new JSONParser({ paths: ['$.tags.*'], keepStack: false });
  const ready: string[][] = [];
  let held = 0;
  let batch: string[] = [];
  let sinceTag = 0;
  let ended = false;
  let stopped = false;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  let resume: (() => void) | undefined;
  parser.onValue = ({ value, parent }) => {
    if (!Array.isArray(parent)) throw invalid('has tags that are not a list');
    if (typeof value !== 'string') throw invalid('has a tag that is not a string');
    sinceTag = 0;
    // Not a tag (at most 128 characters by the spec's grammar): never kept, whatever its length.
    if (!isTag(value)) return;
    batch.push(value);
    held += value.length + NAME_OVERHEAD;
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
        // Not pulling from the body lets undici and TCP push back on the upstream.
        while (held > MAX_HELD_BYTES && !stopped) await new Promise<void>((resolve) => (resume = resolve));
        if (stopped) return;
      }
      if (!parser.isEnded) throw invalid('is not a whole JSON document');
    } catch (error) {
      discard(page.body);
      failure = { error: error instanceof UpstreamError ? error : networkError(error, shown) };
    } finally {
      ended = true;
      hand();
    }
  })();
  return {
    next: async () => {
      while (ready.length === 0 && !ended) await new Promise<void>((resolve) => (wake = resolve));
      const next = ready.shift();
      if (next !== undefined) {
        held -= weight(next);
        if (held <= MAX_HELD_BYTES) resume?.();
        return next;
      }
      if (failure) throw failure.error;
      return undefined;
    },
    stop: () => {
      stopped = true;
      resume?.();
      if (!ended) discard(page.body);
    },
  };
}
