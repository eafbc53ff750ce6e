import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  makeTestCertificate,
  startConnectProxy,
  startSyntheticUpstream,
  type ConnectProxy,
  type SyntheticUpstream,
  type TestCertificate,
} from '@cistern/testkit';
import { UpstreamClient } from '../src/index.ts';
import { FAST } from './helpers.ts';

describe('TLS and proxies', () => {
  let cert: TestCertificate;
  let upstream: SyntheticUpstream;
  let proxy: ConnectProxy;
  let guarded: ConnectProxy;
  const credentials = { username: 'corp user', password: 'pr0xy:s3cret' };
  const bytes = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}');
  let digest: string;
  beforeAll(async () => {
    cert = await makeTestCertificate();
    upstream = await startSyntheticUpstream({ tls: cert });
    digest = upstream.addManifest('secure/app', bytes, 'application/vnd.oci.image.index.v1+json', ['v1']);
    proxy = await startConnectProxy();
    guarded = await startConnectProxy({ credentials });
  });
  afterAll(async () => {
    await proxy.stop();
    await guarded.stop();
    await upstream.stop();
  });
  const options = { upstreamName: 'secure/app', maxRetries: 1, ...FAST };

  it('verifies TLS by default, trusts a given CA, and can be told not to verify', async () => {
    expect(upstream.url).toMatch(/^https:\/\/127\.0\.0\.1:/);
    const strict = new UpstreamClient({ url: upstream.url, ...options });
    await expect(strict.getManifest('v1')).rejects.toMatchObject({ code: 'UPSTREAM_ERROR', retryable: false });
    const trusting = new UpstreamClient({ url: upstream.url, caCert: cert.cert, ...options });
    expect((await trusting.getManifest('v1')).digest).toBe(digest);
    const lax = new UpstreamClient({ url: upstream.url, tlsVerify: false, ...options });
    expect((await lax.headManifest('v1')).digest).toBe(digest);
  });

  it('reaches the upstream through proxyUrl', async () => {
    const viaProxy = new UpstreamClient({ url: upstream.url, caCert: cert.cert, proxyUrl: proxy.url, ...options });
    expect((await viaProxy.getManifest('v1')).digest).toBe(digest);
    expect(proxy.tunnels).toContain(new URL(upstream.url).host);
  });

  it('sends proxyUsername and proxyPassword to the proxy alone, and keeps a pool per credential', async () => {
    const viaGuarded = (password: string) =>
      new UpstreamClient({
        url: upstream.url,
        caCert: cert.cert,
        proxyUrl: guarded.url,
        proxyUsername: credentials.username,
        proxyPassword: password,
        ...options,
      });
    const seen = upstream.requests.length;
    expect((await viaGuarded(credentials.password).getManifest('v1')).digest).toBe(digest);
    expect(guarded.tunnels).toContain(new URL(upstream.url).host);
    expect(upstream.requests.slice(seen).map((r) => r.headers['proxy-authorization'])).toEqual(upstream.requests.slice(seen).map(() => undefined));
    // Same proxy and settings, another password: a pool of its own, refused by the proxy.
    await expect(viaGuarded('wrong').getManifest('v1')).rejects.toMatchObject({ code: 'UPSTREAM_ERROR' });
    expect(guarded.refused).toBeGreaterThan(0);
    const anonymous = new UpstreamClient({ url: upstream.url, caCert: cert.cert, proxyUrl: guarded.url, ...options });
    await expect(anonymous.headManifest('v1')).rejects.toMatchObject({ code: 'UPSTREAM_ERROR' });
  });

  it('takes credentials in a proxyUrl as proxy credentials', async () => {
    const url = new URL(guarded.url);
    url.username = encodeURIComponent(credentials.username);
    url.password = encodeURIComponent(credentials.password);
    const client = new UpstreamClient({ url: upstream.url, caCert: cert.cert, proxyUrl: url.href, ...options });
    expect((await client.headManifest('v1')).digest).toBe(digest);
  });
});
