import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricsRegistry } from '@cistern/metrics';
import { parseMetrics, startFaultProxy, startSyntheticUpstream, type FaultProxy, type SyntheticUpstream } from '@cistern/testkit';
import { UpstreamClient, type RateLimitInfo } from '../src/index.ts';
import { FAST, recordingSink, sha256 } from './helpers.ts';

describe('against the synthetic upstream', () => {
  let upstream: SyntheticUpstream;
  let proxy: FaultProxy;
  beforeAll(async () => {
    upstream = await startSyntheticUpstream({ tagPageSize: 100, referrersApi: true });
    proxy = await startFaultProxy(upstream.url);
  });
  afterAll(async () => {
    await proxy.stop();
    await upstream.stop();
  });
  const client = (name: string, extra: object = {}) =>
    new UpstreamClient({ url: proxy.url, upstreamName: name, limitKey: `synthetic-${name}`, ...FAST, ...extra });

  it('follows Link over 2,500 tags in pages of 100, page by page', async () => {
    const all = Array.from({ length: 2500 }, (_, i) => `v${String(i).padStart(5, '0')}`);
    upstream.addTags('big/repo', all);
    proxy.reset();
    const pages: number[] = [];
    const seen: string[] = [];
    for await (const page of client('big/repo').tagPages()) {
      pages.push(page.length);
      seen.push(...page);
    }
    expect(pages).toEqual(Array.from({ length: 25 }, () => 100));
    expect(seen).toEqual(all);
    expect(proxy.count('GET', 'tags')).toBe(25);
  });

  it('stops a Link loop instead of following it for ever', async () => {
    upstream.addTags('loop/repo', ['a', 'b']);
    upstream.intercept((req, res) => {
      if (!req.url?.startsWith('/v2/loop/repo/tags/list')) return false;
      res.writeHead(200, { 'content-type': 'application/json', link: '</v2/loop/repo/tags/list?n=2&last=b>; rel="next"' });
      res.end(JSON.stringify({ name: 'loop/repo', tags: ['a', 'b'] }));
      return true;
    });
    try {
      const tags: string[] = [];
      const listing = (async () => {
        for await (const tag of client('loop/repo').tags()) tags.push(tag);
      })();
      await expect(listing).rejects.toMatchObject({ code: 'INVALID_RESPONSE' });
      expect(tags).toEqual(['a', 'b', 'a', 'b']);
    } finally {
      upstream.intercept(undefined);
    }
  });

  it('serves unknown manifest types and the Referrers API byte-exact, and refuses oversized manifests', async () => {
    const odd = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.example.thing.v1+json","stuff":[1,2,3]}');
    const digest = upstream.addManifest('odd/repo', odd, 'application/vnd.example.thing.v1+json', ['odd']);
    const c = client('odd/repo');
    const got = await c.getManifest('odd');
    expect(got).toMatchObject({ digest, mediaType: 'application/vnd.example.thing.v1+json', size: odd.length });
    expect(got.bytes).toEqual(odd);

    const referrer = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
        config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a', size: 2 },
        layers: [],
        subject: { mediaType: 'application/vnd.example.thing.v1+json', digest, size: odd.length },
      }),
    );
    const referrerDigest = upstream.addManifest('odd/repo', referrer, 'application/vnd.oci.image.manifest.v1+json');
    const referrers = await c.listReferrers(digest);
    expect(referrers).toMatchObject({ source: 'api', manifests: [{ digest: referrerDigest, artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json' }] });

    upstream.addManifest('odd/repo', Buffer.alloc(5 * 1024 * 1024, 32), 'application/vnd.oci.image.manifest.v1+json', ['huge']);
    await expect(c.getManifest('huge')).rejects.toMatchObject({ code: 'SIZE_INVALID', retryable: false });
    await expect(client('odd/repo', { maxManifestBytes: 64 }).getManifest('odd')).rejects.toMatchObject({ code: 'SIZE_INVALID' });
  });

  it('stops reading referrers pages once more than maxEntries arrived', async () => {
    const subject = sha256(Buffer.from('paged subject'));
    const entry = (n: number) => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256(Buffer.from(`referrer ${n}`)), size: 10 });
    const pagesRead: string[] = [];
    upstream.intercept((req, res) => {
      if (!req.url?.startsWith(`/v2/paged/repo/referrers/${subject}`)) return false;
      const page = Number(new URL(req.url, 'http://x').searchParams.get('page') ?? '0');
      pagesRead.push(String(page));
      const headers: Record<string, string> = { 'content-type': 'application/vnd.oci.image.index.v1+json' };
      if (page < 9) headers['link'] = `</v2/paged/repo/referrers/${subject}?page=${page + 1}>; rel="next"`;
      res.writeHead(200, headers);
      res.end(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [entry(2 * page), entry(2 * page + 1)] }));
      return true;
    });
    try {
      const bounded = await client('paged/repo').listReferrers(subject, { maxEntries: 3 });
      expect([bounded.manifests.length, pagesRead]).toEqual([4, ['0', '1']]);
      pagesRead.length = 0;
      expect((await client('paged/repo').listReferrers(subject)).manifests).toHaveLength(20);
      expect(pagesRead).toHaveLength(10);
    } finally {
      upstream.intercept(undefined);
    }
  });

  it('fails a manifest whose bytes do not match the digest asked for or the digest served', async () => {
    const bytes = Buffer.from('{"schemaVersion":2}');
    upstream.addManifest('lying/repo', bytes, 'application/vnd.oci.image.manifest.v1+json', ['t']);
    upstream.intercept((req, res) => {
      if (!req.url?.startsWith('/v2/lying/repo/manifests/')) return false;
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'docker-content-digest': sha256(Buffer.from('other')) });
      res.end(bytes);
      return true;
    });
    try {
      await expect(client('lying/repo').getManifest('t')).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
      await expect(client('lying/repo').getManifest(sha256(Buffer.from('x')))).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    } finally {
      upstream.intercept(undefined);
    }
  });

  it('reports ratelimit-remaining and stops at a long-window 429 without burning retries', async () => {
    const bytes = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}');
    upstream.addManifest('limited/repo', bytes, 'application/vnd.oci.image.manifest.v1+json', ['t']);
    upstream.headers['ratelimit-limit'] = '100;w=21600';
    upstream.headers['ratelimit-remaining'] = '42;w=21600';
    const readings: RateLimitInfo[] = [];
    const c = client('limited/repo', { onRateLimit: (info: RateLimitInfo) => readings.push(info) });
    try {
      await c.headManifest('t');
      expect(readings.at(-1)).toMatchObject({ limit: 100, remaining: 42, windowSeconds: 21600 });
      expect(c.requestStats().rateLimit).toMatchObject({ remaining: 42 });

      proxy.reset();
      proxy.inject({ kind: 'manifest', fault: { type: 'status', status: 429, headers: { 'ratelimit-remaining': '0;w=21600' } } });
      await expect(c.getManifest('t')).rejects.toMatchObject({ code: 'TOOMANYREQUESTS', retryAfterMs: 21_600_000 });
      proxy.clearFaults();
      proxy.inject({ kind: 'manifest', fault: { type: 'status', status: 429, headers: { 'retry-after': '3600' } } });
      await expect(c.getManifest('t')).rejects.toMatchObject({ code: 'TOOMANYREQUESTS', retryAfterMs: 3_600_000 });
      expect(proxy.count('GET', 'manifest')).toBe(2);
    } finally {
      delete upstream.headers['ratelimit-limit'];
      delete upstream.headers['ratelimit-remaining'];
      proxy.clearFaults();
    }
  });

  it('exports a rate-limit reading until the window it announced has passed, then drops it', async () => {
    const bytes = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}');
    upstream.addManifest('window/repo', bytes, 'application/vnd.oci.image.manifest.v1+json', ['t']);
    const gauges = async () => {
      const scrape = parseMetrics(await metricsRegistry.metrics());
      return ['short-window', 'no-window'].map((remote) =>
        ['remaining', 'limit'].map((what) => scrape.series(`cistern_upstream_rate_limit_${what}`, { remote }).map((s) => s.value)),
      );
    };
    try {
      // No window: kept for 6 hours.
      upstream.headers['ratelimit-limit'] = '20';
      upstream.headers['ratelimit-remaining'] = '7';
      await client('window/repo', { remoteName: 'no-window' }).headManifest('t');
      upstream.headers['ratelimit-limit'] = '10;w=3';
      upstream.headers['ratelimit-remaining'] = '5;w=3';
      await client('window/repo', { remoteName: 'short-window' }).headManifest('t');
      expect(await gauges()).toEqual([
        [[5], [10]],
        [[7], [20]],
      ]);
      // Three seconds after the reading, its window has passed: a scrape then no longer has its series.
      await expect.poll(gauges, { timeout: 10_000, interval: 100 }).toEqual([
        [[], []],
        [[7], [20]],
      ]);
    } finally {
      delete upstream.headers['ratelimit-limit'];
      delete upstream.headers['ratelimit-remaining'];
    }
  });
});

describe('blob redirects to a CDN', () => {
  let cdn: SyntheticUpstream;
  let upstream: SyntheticUpstream;
  beforeAll(async () => {
    cdn = await startSyntheticUpstream();
    upstream = await startSyntheticUpstream({ redirectBlobsTo: cdn.url, basicAuth: { username: 'u', password: 'p' } });
  });
  afterAll(async () => {
    await upstream.stop();
    await cdn.stop();
  });

  it('follows the redirect for blobs without the Authorization header', async () => {
    const blob = Buffer.from('layer bytes from the CDN');
    const digest = upstream.addBlob('r/app', blob);
    cdn.addBlob('r/app', blob);
    const c = new UpstreamClient({ url: upstream.url, upstreamName: 'r/app', username: 'u', password: 'p', ...FAST });
    const sink = recordingSink();
    await c.getBlob(digest, sink);
    expect(sink.bytes()).toEqual(blob);
    expect(upstream.requests.at(-1)?.headers.authorization).toMatch(/^Basic /);
    expect(cdn.requests).toHaveLength(1);
    expect(cdn.requests[0]?.headers.authorization).toBeUndefined();
  });
});
