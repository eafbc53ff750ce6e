import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestCertificate, startConnectProxy, startSyntheticUpstream, type ConnectProxy, type SyntheticUpstream, type TestCertificate } from '@cistern/testkit';
import { UpstreamClient } from '../src/index.ts';
import { FAST } from './helpers.ts';

describe('TLS and proxies', () => {
  let cert: TestCertificate;
  let upstream: SyntheticUpstream;
  let proxy: ConnectProxy;
  const bytes = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}');
  let digest: string;
  beforeAll(async () => {
    cert = await makeTestCertificate();
    upstream = await startSyntheticUpstream({ tls: cert });
    digest = upstream.addManifest('secure/app', bytes, 'application/vnd.oci.image.index.v1+json', ['v1']);
    proxy = await startConnectProxy();
  });
  afterAll(async () => {
    await proxy.stop();
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
});
