import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pathKind, sha256, startFaultProxy, startSyntheticUpstream, type FaultProxy, type SyntheticUpstream } from '../src/index.ts';

describe('synthetic upstream behind the fault proxy', () => {
  let upstream: SyntheticUpstream;
  let proxy: FaultProxy;
  beforeAll(async () => {
    upstream = await startSyntheticUpstream({ tagPageSize: 100 });
    proxy = await startFaultProxy(upstream.url);
  });
  afterAll(async () => {
    await proxy.stop();
    await upstream.stop();
  });

  it('serves any media type byte-exact and pages tags with Link', async () => {
    const bytes = Buffer.from('{"schemaVersion":1,"name":"x","fsLayers":[] }');
    const digest = upstream.addManifest('old/thing', bytes, 'application/vnd.docker.distribution.manifest.v1+prettyjws', ['v1']);
    const got = await fetch(`${proxy.url}/v2/old/thing/manifests/v1`);
    expect(got.headers.get('content-type')).toBe('application/vnd.docker.distribution.manifest.v1+prettyjws');
    expect(got.headers.get('docker-content-digest')).toBe(digest);
    expect(Buffer.from(await got.arrayBuffer())).toEqual(bytes);

    upstream.addTags(
      'old/thing',
      Array.from({ length: 250 }, (_, i) => `t${String(i).padStart(4, '0')}`),
    );
    const first = await fetch(`${proxy.url}/v2/old/thing/tags/list`);
    expect(((await first.json()) as { tags: string[] }).tags).toHaveLength(100);
    expect(first.headers.get('link')).toBe('</v2/old/thing/tags/list?n=100&last=t0099>; rel="next"');
    expect(proxy.counts()).toMatchObject({ 'GET manifest': 1, 'GET tags': 1 });
  });

  it('injects status, reset, truncation and corruption on chosen requests', async () => {
    const blob = Buffer.alloc(4096, 7);
    const digest = upstream.addBlob('old/thing', blob);
    const url = `${proxy.url}/v2/old/thing/blobs/${digest}`;
    proxy.inject({ kind: 'blob', fault: { type: 'status', status: 429, headers: { 'retry-after': '1' } }, times: 1 });
    proxy.inject({ kind: 'blob', fault: { type: 'reset' }, skip: 1, times: 1 });
    const limited = await fetch(url);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    await expect(fetch(url)).rejects.toThrow();
    proxy.clearFaults();
    proxy.inject({ kind: 'blob', fault: { type: 'corrupt' }, times: 1 });
    const corrupt = Buffer.from(await (await fetch(url)).arrayBuffer());
    expect(corrupt).toHaveLength(blob.length);
    expect(sha256(corrupt)).not.toBe(digest);
    proxy.inject({ kind: 'blob', fault: { type: 'truncate', bytes: 100 }, times: 1 });
    await expect(fetch(url).then((r) => r.arrayBuffer())).rejects.toThrow();
    expect(Buffer.from(await (await fetch(url)).arrayBuffer())).toEqual(blob);
    expect(proxy.count('GET', 'blob')).toBe(5);
  });

  it('classifies paths by kind', () => {
    expect(pathKind('/v2/')).toBe('ping');
    expect(pathKind('/v2/a/b/manifests/latest')).toBe('manifest');
    expect(pathKind('/v2/a/blobs/uploads/123')).toBe('upload');
    expect(pathKind('/v2/a/blobs/sha256:00')).toBe('blob');
    expect(pathKind('/v2/a/tags/list?n=1')).toBe('tags');
    expect(pathKind('/v2/a/referrers/sha256:00')).toBe('referrers');
    expect(pathKind('/token?scope=x')).toBe('token');
  });
});
