import { createHash, randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CisternError } from '@cistern/errors';
import { pushBlob, pushImage, startDistribution, startFaultProxy, type Distribution, type FaultProxy } from '@cistern/testkit';
import { UpstreamClient, type UpstreamError } from '../src/index.ts';
import { FAST, recordingSink } from './helpers.ts';

describe('faults between the client and Distribution', () => {
  let registry: Distribution;
  let proxy: FaultProxy;
  let image: Awaited<ReturnType<typeof pushImage>>;
  let blob: Buffer;
  let blobDigest: string;
  beforeAll(async () => {
    registry = await startDistribution();
    proxy = await startFaultProxy(registry.url);
    image = await pushImage(registry, 'f/app', 'v1');
    blob = randomBytes(3 * 1024 * 1024);
    blobDigest = await pushBlob(registry, 'f/app', blob);
  });
  afterAll(async () => {
    await proxy.stop();
    await registry.stop();
  });
  beforeEach(() => proxy.reset());
  const client = (extra: object = {}) => new UpstreamClient({ url: proxy.url, upstreamName: 'f/app', maxRetries: 3, readTimeoutMs: 1000, ...FAST, ...extra });

  it.each([
    ['429 with Retry-After', { type: 'status', status: 429, headers: { 'retry-after': '1' } }, 2],
    ['503', { type: 'status', status: 503 }, 2],
    ['a connection reset', { type: 'reset' }, 2],
    ['a slow answer past the read timeout', { type: 'delay', ms: 2500 }, 1],
  ] as const)('recovers manifests from %s within the retries', async (_name, fault, times) => {
    proxy.inject({ kind: 'manifest', fault, times });
    const c = client();
    const started = Date.now();
    expect((await c.getManifest('v1')).digest).toBe(image.digest);
    expect(c.requestStats().retries).toBe(times);
    expect(proxy.count('GET', 'manifest')).toBe(times + 1);
    if (fault.type === 'status' && fault.status === 429) expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
  });

  it.each([
    ['a corrupted body', { type: 'corrupt' }],
    ['a body cut off midway', { type: 'truncate' }],
  ] as const)('fetches a manifest again after %s', async (_name, fault) => {
    proxy.inject({ method: 'GET', kind: 'manifest', fault, times: 1 });
    const c = client();
    const fetched = await c.getManifest('v1');
    expect(fetched.digest).toBe(image.digest);
    expect(fetched.bytes.equals(image.bytes)).toBe(true);
    expect(c.requestStats().retries).toBe(1);
    expect(proxy.count('GET', 'manifest')).toBe(2);
  });

  it('fails a manifest that stays corrupted with DIGEST_MISMATCH after its retries', async () => {
    proxy.inject({ method: 'GET', kind: 'manifest', fault: { type: 'corrupt' } });
    const c = client();
    await expect(c.getManifest(image.digest)).rejects.toMatchObject({ code: 'DIGEST_MISMATCH', retryable: true });
    expect(proxy.count('GET', 'manifest')).toBe(3 + 1);
    expect(c.requestStats().retries).toBe(3);
  });

  it('stops refetching a corrupted manifest when its client is canceled', async () => {
    proxy.inject({ method: 'GET', kind: 'manifest', fault: { type: 'corrupt' } });
    const controller = new AbortController();
    const c = client({ signal: controller.signal, retryBaseMs: 10_000, retryMaxMs: 10_000 });
    const started = Date.now();
    const fetching = c.getManifest('v1');
    setTimeout(() => controller.abort(new Error('canceled')), 200);
    await expect(fetching).rejects.toThrow('canceled');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(proxy.count('GET', 'manifest')).toBe(1);
  });

  it.each([
    ['a truncated body', { type: 'truncate' }],
    ['a connection reset', { type: 'reset' }],
    ['a stalled body past the read timeout', { type: 'stall', ms: 2500 }],
    ['503', { type: 'status', status: 503 }],
  ] as const)('recovers a blob from %s, resuming with Range where bytes had arrived', async (_name, fault) => {
    proxy.inject({ kind: 'blob', fault, times: 1 });
    const sink = recordingSink();
    const c = client();
    const info = await c.getBlob(blobDigest, sink, { size: blob.length });
    expect(c.requestStats().retries).toBe(1);
    expect(info).toEqual({ digest: blobDigest, size: blob.length });
    expect(sink.finished).toBe(true);
    expect(sink.bytes().equals(blob)).toBe(true);
  });

  it('never hands a corrupted blob to the writer as valid', async () => {
    proxy.inject({ kind: 'blob', fault: { type: 'corrupt' }, times: 1 });
    const sink = recordingSink();
    const error = (await client()
      .getBlob(blobDigest, sink)
      .catch((e: unknown) => e)) as UpstreamError;
    expect(error).toMatchObject({ code: 'DIGEST_MISMATCH', retryable: true });
    expect(sink.finished).toBe(false);
    expect(sink.destroyed).toBe(true);
    expect(sink.failed).toBe(error);
    // a fresh attempt with a fresh sink succeeds
    const again = recordingSink();
    await client().getBlob(blobDigest, again);
    expect(again.finished).toBe(true);
  });

  it('leaves the digest to a sink that verifies it, and reports its mismatch as its own', async () => {
    // A sink that hashes what it is given and fails its end on a mismatch, as a blob store writer does.
    const verifyingSink = () => {
      const hash = createHash('sha256');
      return new Writable({
        write(chunk: Buffer, _encoding, done) {
          hash.update(chunk);
          done();
        },
        final(done) {
          const actual = `sha256:${hash.digest('hex')}`;
          done(actual === blobDigest ? null : new CisternError('DIGEST_MISMATCH', `hashes to ${actual}`));
        },
      });
    };
    proxy.inject({ kind: 'blob', fault: { type: 'corrupt' }, times: 1 });
    const error = (await client()
      .getBlob(blobDigest, verifyingSink(), { sinkVerifiesDigest: true })
      .catch((e: unknown) => e)) as UpstreamError;
    expect(error).toMatchObject({ name: 'UpstreamError', code: 'DIGEST_MISMATCH', retryable: true });
    expect(error.message).toContain('hashes to sha256:');
    const sink = verifyingSink();
    expect(await client().getBlob(blobDigest, sink, { size: blob.length, sinkVerifiesDigest: true })).toEqual({ digest: blobDigest, size: blob.length });
    expect(sink.writableFinished).toBe(true);
  });

  it('fails a blob longer or shorter than its descriptor says with SIZE_INVALID', async () => {
    const sink = recordingSink();
    await expect(client().getBlob(blobDigest, sink, { size: blob.length - 1 })).rejects.toMatchObject({ code: 'SIZE_INVALID' });
    expect(sink.finished).toBe(false);
  });

  it('gives up on persistent faults with the right code', async () => {
    proxy.inject({ kind: 'manifest', fault: { type: 'status', status: 503 } });
    await expect(client().getManifest('v1')).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', retryable: true, status: 503 });
    expect(proxy.count('GET', 'manifest')).toBe(4);
    proxy.reset();
    proxy.inject({ kind: 'manifest', fault: { type: 'reset' } });
    await expect(client().headManifest('v1')).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', retryable: true });
    proxy.reset();
    proxy.inject({ kind: 'manifest', fault: { type: 'status', status: 429, headers: { 'retry-after': '0' } } });
    await expect(client().headManifest('v1')).rejects.toMatchObject({ code: 'TOOMANYREQUESTS', retryable: true });
    proxy.reset();
    proxy.inject({ kind: 'blob', fault: { type: 'corrupt' } });
    await expect(client().getBlob(blobDigest, recordingSink())).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    proxy.reset();
    proxy.inject({ kind: 'manifest', fault: { type: 'status', status: 400 } });
    const error = (await client()
      .getManifest('v1')
      .catch((e: unknown) => e)) as UpstreamError;
    expect(error).toMatchObject({ code: 'UPSTREAM_ERROR', retryable: false, status: 400 });
    expect(error.message).toContain(`${proxy.url}/v2/f/app/manifests/v1`);
    expect(proxy.count('GET', 'manifest')).toBe(1);
  });

  it('reports connection refused as UPSTREAM_UNAVAILABLE', async () => {
    const c = new UpstreamClient({ url: 'http://127.0.0.1:1', upstreamName: 'x/y', maxRetries: 1, ...FAST });
    await expect(c.ping()).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', retryable: true });
  });
});
