import { describe, expect, it } from 'vitest';
import { parseWwwAuthenticate, UpstreamError } from '../src/index.ts';
import { nextLink } from '../src/pages.ts';
import { readRateLimit } from '../src/rate-limit.ts';
import { parseRetryAfter } from '../src/retry.ts';
import { displayUrl } from '../src/errors.ts';

describe('WWW-Authenticate', () => {
  it("reads Docker Hub's Bearer challenge with quoted values", () => {
    expect(parseWwwAuthenticate('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"')).toEqual([
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/alpine:pull' } },
    ]);
  });

  it('reads several challenges, insufficient_scope, escapes, commas inside quotes and unquoted values', () => {
    const header =
      'Basic realm="a \\"quoted\\" realm", Bearer realm="https://r/token", scope="repository:a:pull,push repository:b:pull",error="insufficient_scope", Negotiate';
    expect(parseWwwAuthenticate(header)).toEqual([
      { scheme: 'basic', params: { realm: 'a "quoted" realm' } },
      { scheme: 'bearer', params: { realm: 'https://r/token', scope: 'repository:a:pull,push repository:b:pull', error: 'insufficient_scope' } },
      { scheme: 'negotiate', params: {} },
    ]);
    expect(parseWwwAuthenticate('BASIC Realm=simple')).toEqual([{ scheme: 'basic', params: { realm: 'simple' } }]);
    expect(parseWwwAuthenticate('')).toEqual([]);
  });
});

describe('headers', () => {
  it('reads Retry-After as seconds or a date', () => {
    expect(parseRetryAfter('120')).toBe(120_000);
    expect(parseRetryAfter(new Date(Date.now() + 5000).toUTCString(), Date.now())).toBeGreaterThan(3000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });

  it("reads Docker Hub's rate-limit headers and the IETF drafts' forms", () => {
    expect(readRateLimit({ 'ratelimit-limit': '100;w=21600', 'ratelimit-remaining': '76;w=21600' })).toEqual({
      limit: 100,
      remaining: 76,
      windowSeconds: 21600,
    });
    // Draft 6 and earlier: bare numbers, the window in RateLimit-Policy.
    expect(readRateLimit({ 'ratelimit-limit': '10', 'ratelimit-remaining': '4', 'ratelimit-reset': '7', 'ratelimit-policy': '10;w=1' })).toEqual({
      limit: 10,
      remaining: 4,
      windowSeconds: 1,
    });
    // Draft 7: one dictionary field.
    expect(readRateLimit({ ratelimit: 'limit=100, remaining=50, reset=30' })).toEqual({ limit: 100, remaining: 50 });
    // Draft 8 on: named policies; the first one listed is the one that applies first.
    expect(readRateLimit({ ratelimit: '"burst";r=50;t=30, "daily";r=900;t=3600', 'ratelimit-policy': '"burst";q=100;w=60, "daily";q=1000;w=86400' })).toEqual({
      limit: 100,
      remaining: 50,
      windowSeconds: 60,
    });
    expect(readRateLimit({ 'content-type': 'application/json' })).toBeUndefined();
    expect(readRateLimit({ 'ratelimit-remaining': 'soon' })).toBeUndefined();
  });

  it('finds rel="next" among several links', () => {
    expect(nextLink('</v2/a/tags/list?n=100&last=x>; rel="next"')).toBe('/v2/a/tags/list?n=100&last=x');
    expect(nextLink('<https://x/prev>; rel="prev", <https://x/next>; rel=next')).toBe('https://x/next');
    expect(nextLink('<https://x/prev>; rel="prev"')).toBeUndefined();
  });
});

describe('errors', () => {
  it('never show credentials or query strings', () => {
    expect(displayUrl('https://user:secret@cdn.example/blob?X-Amz-Signature=abc')).toBe('https://cdn.example/blob');
    const error = new UpstreamError('BLOB_UNKNOWN', 'not found upstream', { status: 404, url: 'https://r/v2/a/blobs/sha256:0' });
    expect(error).toMatchObject({ code: 'BLOB_UNKNOWN', retryable: false, status: 404 });
    expect(error.message).toBe('not found upstream (HTTP 404 https://r/v2/a/blobs/sha256:0)');
    expect(new UpstreamError('UPSTREAM_UNAVAILABLE', 'x', { url: 'u' }).retryable).toBe(true);
  });
});

describe('construction', () => {
  it('normalizes Docker Hub and takes credentials out of the URL', async () => {
    const { UpstreamClient } = await import('../src/index.ts');
    const hub = new UpstreamClient({ url: 'docker.io', upstreamName: 'alpine' });
    expect(hub.registryUrl).toBe('https://registry-1.docker.io');
    expect(hub.repository).toBe('library/alpine');
    const other = new UpstreamClient({ url: 'http://me:pw@127.0.0.1:5000/', upstreamName: 'a/b' });
    expect(other.registryUrl).toBe('http://127.0.0.1:5000');
  });
});
