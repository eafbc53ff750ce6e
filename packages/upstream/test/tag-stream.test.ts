import type { ServerResponse } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSyntheticUpstream, waitFor, type SyntheticUpstream } from '@cistern/testkit';
import { UpstreamClient } from '../src/index.ts';
import { FAST } from './helpers.ts';

// Distribution answers every tag of a repository in one body (40 MB for a
// million tags): the client hands tags on while that body is still arriving.
describe('a tag list in one body', () => {
  let upstream: SyntheticUpstream;
  beforeAll(async () => {
    upstream = await startSyntheticUpstream();
  });
  afterAll(async () => {
    await upstream.stop();
  });

  it('is read as a stream: the first tags arrive before the upstream has sent the rest of the body', async () => {
    const tags = Array.from({ length: 20_000 }, (_, i) => `release-${String(i).padStart(6, '0')}`);
    const body = Buffer.from(JSON.stringify({ name: 'one/body', tags }));
    const half = Math.floor(body.length / 2);
    let seeTags!: () => void;
    const tagsSeen = new Promise<void>((resolve) => (seeTags = resolve));
    let restSent = false;
    upstream.addTags('one/body', []);
    upstream.intercept((req, res) => {
      if (!req.url?.startsWith('/v2/one/body/tags/list')) return false;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
      res.write(body.subarray(0, half));
      // The rest goes once the client has handed tags on, or after 3 s for a client that never does.
      void Promise.race([tagsSeen, new Promise((r) => setTimeout(r, 3000))]).then(() => {
        restSent = true;
        res.end(body.subarray(half));
      });
      return true;
    });
    try {
      const client = new UpstreamClient({ url: upstream.url, upstreamName: 'one/body', limitKey: 'tag-stream', ...FAST });
      const seen: string[] = [];
      let sentBeforeFirstBatch: boolean | undefined;
      for await (const page of client.tagPages()) {
        sentBeforeFirstBatch ??= restSent;
        seeTags();
        seen.push(...page);
      }
      expect(sentBeforeFirstBatch).toBe(false);
      expect(seen).toEqual(tags);
      expect(upstream.requests.filter((r) => r.url.includes('/tags/list'))).toHaveLength(1);
    } finally {
      upstream.intercept(undefined);
    }
  });

  it.each([
    ['an empty repository', '{"name":"shapes","tags":null}', []],
    ['no tags field', '{"name":"shapes"}', []],
    ['a top-level list', '["v1","v2"]', []],
    ['tags that are a string', '{"tags":"v1"}', []],
    ['names that are not tags among tags', `{"tags":["v1","-no","${'a'.repeat(129)}","v2"]}`, ['v1', 'v2']],
    ['tags that are an object', '{"tags":{"a":"v1"}}', 'INVALID_RESPONSE'],
    ['a tag that is a number', '{"tags":["v1",2]}', 'INVALID_RESPONSE'],
    ['a body that is not JSON', '{"tags":["v1"', 'INVALID_RESPONSE'],
    ['a body that goes on after its document', '{"tags":["v1"]}{"tags":[]}', 'INVALID_RESPONSE'],
  ])('reads %s as documented', async (_name, body, expected) => {
    upstream.intercept((req, res) => {
      if (!req.url?.startsWith('/v2/shapes/tags/list')) return false;
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
      return true;
    });
    try {
      const client = new UpstreamClient({ url: upstream.url, upstreamName: 'shapes', limitKey: 'tag-stream', ...FAST });
      const listing = (async () => {
        const tags: string[] = [];
        for await (const tag of client.tags()) tags.push(tag);
        return tags;
      })();
      if (typeof expected === 'string') await expect(listing).rejects.toMatchObject({ code: expected });
      else expect(await listing).toEqual(expected);
    } finally {
      upstream.intercept(undefined);
    }
  });
});

/** Resolves once `read()` has not changed for `quietMs`, with its last value. */
async function settled(read: () => number, quietMs = 750): Promise<number> {
  let last = read();
  for (;;) {
    await new Promise((r) => setTimeout(r, quietMs));
    const now = read();
    if (now === last) return now;
    last = now;
  }
}

/** The heap after a full collection, in bytes. */
function heapAfterGc(): number {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  return process.memoryUsage().heapUsed;
}

/** Writes a chunk, then waits while the client does not read (or until the connection closes). */
async function write(res: ServerResponse, chunk: string): Promise<void> {
  if (res.write(chunk)) return;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

describe('a tag list larger than the client holds', () => {
  let upstream: SyntheticUpstream;
  beforeAll(async () => {
    upstream = await startSyntheticUpstream();
  });
  afterAll(async () => {
    await upstream.stop();
  });

  /** Serves `{"tags":[`, the chunks, and `]}`, only as fast as the client reads; counts what was written. */
  const serve = (path: string, chunks: () => AsyncGenerator<string>) => {
    const sent = { bytes: 0, done: false, closed: false };
    upstream.intercept((req, res) => {
      if (!req.url?.startsWith(path)) return false;
      res.on('close', () => (sent.closed = true));
      res.writeHead(200, { 'content-type': 'application/json' });
      void (async () => {
        await write(res, '{"tags":[');
        for await (const chunk of chunks()) {
          if (res.destroyed) return;
          await write(res, chunk);
          sent.bytes += chunk.length;
        }
        sent.done = true;
        res.end(']}');
      })();
      return true;
    });
    return sent;
  };

  it('stops reading while a million names wait, and reads on as the consumer takes them', async () => {
    const total = 80 * 1024 * 1024;
    const sent = serve('/v2/endless/tags/list', async function* () {
      for (let n = 0, bytes = 0; bytes < total;) {
        const parts: string[] = [];
        for (let i = 0; i < 4096; i += 1) parts.push(`"t-${n++}"`);
        const chunk = `${n > 4096 ? ',' : ''}${parts.join(',')}`;
        bytes += chunk.length;
        yield chunk;
      }
    });
    try {
      const client = new UpstreamClient({ url: upstream.url, upstreamName: 'endless', limitKey: 'tag-stream-endless', ...FAST });
      const pages = client.tagPages();
      let received = (await pages.next()).value?.length ?? 0;
      // The consumer takes one batch and stops: the upstream is held back well short of the body.
      const stalledAt = await settled(() => sent.bytes);
      expect(sent.done).toBe(false);
      expect(stalledAt).toBeLessThan(total / 2);
      // Taking two million names makes room, and reading resumes.
      while (received < 2_000_000) received += (await pages.next()).value?.length ?? 0;
      expect(await settled(() => sent.bytes)).toBeGreaterThan(stalledAt);
      await pages.return(undefined);
      await waitFor('the body to be dropped', async () => (sent.closed ? true : undefined), 5000);
    } finally {
      upstream.intercept(undefined);
    }
  });

  it('drops strings in the list that are not tags instead of holding them', async () => {
    const huge = `"${'x'.repeat(8 * 1024 * 1024)}"`;
    let looked!: () => void;
    const heapLooked = new Promise<void>((resolve) => (looked = resolve));
    const sent = serve('/v2/huge/tags/list', async function* () {
      for (let i = 0; i < 50; i += 1) yield `${i > 0 ? ',' : ''}${huge}`;
      // The one tag goes once the test has looked at the heap.
      await heapLooked;
      yield ',"v1"';
    });
    try {
      const before = heapAfterGc();
      const client = new UpstreamClient({ url: upstream.url, upstreamName: 'huge', limitKey: 'tag-stream-huge', ...FAST });
      const tags: string[] = [];
      const reading = (async () => {
        for await (const page of client.tagPages()) tags.push(...page);
      })();
      await waitFor('400 MiB of strings to be written', async () => (sent.bytes >= 50 * huge.length ? true : undefined));
      await new Promise((r) => setTimeout(r, 500));
      // 400 MiB of strings went through; what stays is at most the one being parsed and some buffers.
      expect(heapAfterGc() - before).toBeLessThan(100 * 1024 * 1024);
      looked();
      await reading;
      expect(tags).toEqual(['v1']);
    } finally {
      upstream.intercept(undefined);
    }
  });
});
