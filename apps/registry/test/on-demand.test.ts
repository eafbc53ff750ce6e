import { randomBytes } from 'node:crypto';
import { pushImage, sha256, startDistribution, startFaultProxy, type Distribution, type FaultProxy, type PushedManifest } from '@cistern/testkit';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RegistryHarness } from './harness.ts';

const h = new RegistryHarness();
let upstream: Distribution;
let proxy: FaultProxy;
let spare: FaultProxy;
let urls: string[];
const images: Record<string, PushedManifest> = {};
const layers: Record<string, Buffer> = {};

/** The gzipped layer bytes as pushed: what the registry must serve. */
async function upstreamLayer(repo: string, image: PushedManifest): Promise<Buffer> {
  const response = await fetch(`${upstream.url}/v2/${repo}/blobs/${image.blobs[1]}`);
  return Buffer.from(await response.arrayBuffer());
}

async function stored(digest: string): Promise<boolean> {
  const row = await h.db.prisma.blob.findUnique({ where: { digest } });
  return (await h.storage.exists(digest)) && row?.stored === true;
}

beforeAll(async () => {
  await h.start();
  upstream = await startDistribution();
  proxy = await startFaultProxy(upstream.url);
  spare = await startFaultProxy(upstream.url);
  for (const name of ['first', 'many', 'corrupt', 'leave', 'range', 'beyond', 'streamed', 'fallback']) {
    images[name] = await pushImage(upstream, `lib/${name}`, 'v1', { layers: [randomBytes(3 * 1024 * 1024)] });
    layers[name] = await upstreamLayer(`lib/${name}`, images[name] as PushedManifest);
    const policy = name === 'streamed' ? 'streamed' : 'on_demand';
    await h.mirror(proxy.url, `lib/${name}`, name, { policy });
  }
  // A second remote that recorded the same blob, for when the first one fails.
  const second = await h.remote({ url: spare.url, upstreamName: 'lib/fallback', policy: 'on_demand' });
  await h.sync(second, await h.repository());
  urls = [(await h.registry()).url, (await h.registry()).url];
}, 180_000);

beforeEach(() => {
  proxy.reset();
  spare.reset();
});

afterAll(async () => {
  await proxy?.stop();
  await spare?.stop();
  await upstream?.stop();
  await h.stop();
});

const layerOf = (name: string) => images[name]?.blobs[1] as string;
const blobUrl = (name: string, registry = 0) => `${urls[registry]}/v2/${name}/blobs/${layerOf(name)}`;

describe('on-demand blobs', () => {
  it('recorded the layers as remote artifacts, not stored', async () => {
    expect(await stored(layerOf('first'))).toBe(false);
    const head = await fetch(blobUrl('first'), { method: 'HEAD' });
    expect([head.status, head.headers.get('content-length')]).toEqual([200, String(layers.first?.length)]);
    expect(proxy.count('GET', 'blob')).toBe(0);
  });

  it('streams the first pull from the remote and stores it; the second is local', async () => {
    const first = await fetch(blobUrl('first'));
    expect(first.headers.get('content-length')).toBe(String(layers.first?.length));
    expect(Buffer.from(await first.arrayBuffer()).equals(layers.first as Buffer)).toBe(true);
    await expect.poll(() => stored(layerOf('first'))).toBe(true);
    const second = await fetch(blobUrl('first', 1));
    expect(sha256(Buffer.from(await second.arrayBuffer()))).toBe(layerOf('first'));
    expect(proxy.count('GET', 'blob')).toBe(1);
  });

  it('makes one upstream download for concurrent first pulls through two registry processes', async () => {
    proxy.inject({ kind: 'blob', fault: { type: 'stall', ms: 400 } });
    const bodies = await Promise.all(Array.from({ length: 8 }, async (_, i) => Buffer.from(await (await fetch(blobUrl('many', i % 2))).arrayBuffer())));
    for (const body of bodies) expect(sha256(body)).toBe(layerOf('many'));
    expect(proxy.count('GET', 'blob')).toBe(1);
    expect(await stored(layerOf('many'))).toBe(true);
  });

  it('cuts the response and stores nothing when the remote sends corrupt bytes', async () => {
    proxy.inject({ kind: 'blob', fault: { type: 'corrupt' }, times: 2 });
    const response = await fetch(blobUrl('corrupt'));
    expect(response.status).toBe(200);
    const received = await response.arrayBuffer().then(
      (b) => b.byteLength,
      () => -1,
    );
    expect(received).not.toBe(layers.corrupt?.length);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await h.storage.exists(layerOf('corrupt'))).toBe(false);
    expect(await stored(layerOf('corrupt'))).toBe(false);
    // With the remote healthy again, the next pull fetches and stores the right bytes.
    proxy.clearFaults();
    const retry = await fetch(blobUrl('corrupt'));
    expect(sha256(Buffer.from(await retry.arrayBuffer()))).toBe(layerOf('corrupt'));
    await expect.poll(() => stored(layerOf('corrupt'))).toBe(true);
  });

  it('finishes the download when the client disconnects', async () => {
    proxy.inject({ kind: 'blob', fault: { type: 'stall', ms: 500 } });
    const abort = new AbortController();
    const response = await fetch(blobUrl('leave'), { signal: abort.signal });
    const reader = response.body?.getReader();
    await reader?.read();
    abort.abort();
    await expect.poll(() => stored(layerOf('leave')), { timeout: 10_000 }).toBe(true);
    expect(proxy.count('GET', 'blob')).toBe(1);
  });

  it('answers a range of a blob not yet stored by fetching the whole blob once', async () => {
    const response = await fetch(blobUrl('range'), { headers: { range: 'bytes=100-199' } });
    expect(response.status).toBe(206);
    expect(Buffer.from(await response.arrayBuffer()).equals((layers.range as Buffer).subarray(100, 200))).toBe(true);
    expect(await stored(layerOf('range'))).toBe(true);
    const size = layers.range?.length ?? 0;
    const beyond = await fetch(blobUrl('range'), { headers: { range: `bytes=${size}-` } });
    expect(beyond.status).toBe(416);
    expect(proxy.count('GET', 'blob')).toBe(1);
  });

  it('refuses a range past the end of a blob not yet stored with 416 and its size, fetching nothing', async () => {
    const size = layers.beyond?.length ?? 0;
    const response = await fetch(blobUrl('beyond'), { headers: { range: `bytes=${size}-` } });
    expect([response.status, response.headers.get('content-range')]).toEqual([416, `bytes */${size}`]);
    expect(((await response.json()) as { errors: { code: string }[] }).errors[0]?.code).toBe('RANGE_INVALID');
    expect(proxy.count('GET', 'blob')).toBe(0);
    expect(await stored(layerOf('beyond'))).toBe(false);
  });

  it('keeps nothing for streamed remotes: every pull goes upstream', async () => {
    for (const range of [undefined, 'bytes=1000-1999']) {
      const response = await fetch(blobUrl('streamed'), range ? { headers: { range } } : {});
      const body = Buffer.from(await response.arrayBuffer());
      expect(body.equals(range ? (layers.streamed as Buffer).subarray(1000, 2000) : (layers.streamed as Buffer))).toBe(true);
    }
    expect(proxy.count('GET', 'blob')).toBe(2);
    expect(await h.storage.exists(layerOf('streamed'))).toBe(false);
  });

  it('falls back to another remote that recorded the blob when the first fails', async () => {
    proxy.inject({ kind: 'blob', fault: { type: 'status', status: 404, body: '{"errors":[{"code":"BLOB_UNKNOWN","message":"gone"}]}' } });
    const response = await fetch(blobUrl('fallback'));
    expect(sha256(Buffer.from(await response.arrayBuffer()))).toBe(layerOf('fallback'));
    expect(spare.count('GET', 'blob')).toBe(1);
    await expect.poll(() => stored(layerOf('fallback'))).toBe(true);
  });
});
