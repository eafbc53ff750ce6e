import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSyntheticUpstream, type SyntheticUpstream } from '@cistern/testkit';
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
});
