import { createHash, randomBytes } from 'node:crypto';
import { readdir, readlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { pushImage, pushIndex, sha256, startDistribution, type Distribution, type PushedManifest } from '@cistern/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryHarness } from './harness.ts';

const h = new RegistryHarness();
let upstream: Distribution;
let url: string;
let image: PushedManifest;
let sbom: PushedManifest;
let signature: PushedManifest;
let plain: PushedManifest;
let other: PushedManifest;
let layer: Buffer;
let big: PushedManifest;

const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const SPDX = 'application/spdx+json';
const SIGNATURE = 'application/vnd.example.signature.v1';

async function errorCode(response: Response): Promise<string | undefined> {
  return ((await response.json()) as { errors: { code: string }[] }).errors[0]?.code;
}

beforeAll(async () => {
  await h.start();
  upstream = await startDistribution();
  layer = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
  image = await pushImage(upstream, 'lib/app', 'v1', { layers: [layer] });
  sbom = await pushImage(upstream, 'lib/app', undefined, { artifactType: SPDX, subject: image.descriptor });
  signature = await pushImage(upstream, 'lib/app', undefined, {
    artifactType: SIGNATURE,
    subject: image.descriptor,
    annotations: { 'org.example.signed-by': 'tester' },
  });
  plain = await pushImage(upstream, 'lib/app', undefined, { subject: image.descriptor });
  // Distribution 2.8 has no Referrers API: the sync finds referrers through the tag schema.
  await pushIndex(upstream, 'lib/app', `sha256-${image.digest.slice(7)}`, [
    { ...sbom.descriptor, artifactType: SPDX },
    { ...signature.descriptor, artifactType: SIGNATURE },
    plain.descriptor,
  ]);
  other = await pushImage(upstream, 'lib/other', 'v1');
  // Larger than several of the store's 1 MiB read buffers, which are reused across responses.
  big = await pushImage(upstream, 'lib/app', 'big', { layers: [randomBytes(5 * 1024 * 1024 + 123)] });
  await h.mirror(upstream.url, 'lib/app', 'app');
  await h.mirror(upstream.url, 'lib/other', 'other');
  url = (await h.registry({ referrersPageSize: 2 })).url;
}, 120_000);

afterAll(async () => {
  await upstream?.stop();
  await h.stop();
});

describe('blobs', () => {
  const layerUrl = () => `${url}/v2/app/blobs/${image.blobs[1]}`;

  it('streams a blob with its digest, length and Accept-Ranges; HEAD has no body', async () => {
    const response = await fetch(layerUrl());
    expect(response.status).toBe(200);
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(sha256(bytes)).toBe(image.blobs[1]);
    expect(response.headers.get('docker-content-digest')).toBe(image.blobs[1]);
    expect(response.headers.get('accept-ranges')).toBe('bytes');
    expect(response.headers.get('content-length')).toBe(String(bytes.length));
    const head = await fetch(layerUrl(), { method: 'HEAD' });
    expect([head.status, head.headers.get('content-length'), await head.text()]).toEqual([200, String(bytes.length), '']);
  });

  it('serves single byte ranges and refuses unsatisfiable ones with 416', async () => {
    const whole = Buffer.from(await (await fetch(layerUrl())).arrayBuffer());
    const size = whole.length;
    const cases: [string, number, [number, number] | null][] = [
      ['bytes=0-9', 206, [0, 9]],
      ['bytes=10-', 206, [10, size - 1]],
      ['bytes=-5', 206, [size - 5, size - 1]],
      [`bytes=-${size + 10}`, 206, [0, size - 1]],
      [`bytes=${size - 1}-${size + 100}`, 206, [size - 1, size - 1]],
      [`bytes=${size - 1}-${size - 1}`, 206, [size - 1, size - 1]],
      ['bytes=5-2', 200, null],
      ['bytes=0-1,4-5', 200, null],
      ['items=0-1', 200, null],
    ];
    for (const [range, status, span] of cases) {
      const response = await fetch(layerUrl(), { headers: { range } });
      const body = Buffer.from(await response.arrayBuffer());
      expect([range, response.status]).toEqual([range, status]);
      if (span) {
        expect(response.headers.get('content-range')).toBe(`bytes ${span[0]}-${span[1]}/${size}`);
        expect(body.equals(whole.subarray(span[0], span[1] + 1))).toBe(true);
      } else {
        expect(body.equals(whole)).toBe(true);
      }
    }
    for (const range of [`bytes=${size}-`, `bytes=${size + 5}-${size + 9}`, 'bytes=-0']) {
      const response = await fetch(layerUrl(), { headers: { range } });
      expect([range, response.status, response.headers.get('content-range')]).toEqual([range, 416, `bytes */${size}`]);
      expect(await errorCode(response)).toBe('RANGE_INVALID');
    }
  });

  it('answers BLOB_UNKNOWN for a blob the version does not reference, even if stored for another', async () => {
    expect(await h.storage.exists(other.blobs[1] as string)).toBe(true);
    const response = await fetch(`${url}/v2/app/blobs/${other.blobs[1]}`);
    expect([response.status, await errorCode(response)]).toEqual([404, 'BLOB_UNKNOWN']);
    const head = await fetch(`${url}/v2/app/blobs/${other.blobs[1]}`, { method: 'HEAD' });
    expect(head.status).toBe(404);
    const malformed = await fetch(`${url}/v2/app/blobs/sha256:XYZ`);
    expect([malformed.status, await errorCode(malformed)]).toEqual([400, 'DIGEST_INVALID']);
  });
});

/** Sends raw HTTP/1.1 requests on one connection, all at once (pipelined), and splits the responses by Content-Length. */
async function pipelined(requests: string[], expected: number): Promise<{ status: number; headers: string; body: Buffer }[]> {
  const address = new URL(url);
  const socket = connect(Number(address.port), address.hostname);
  socket.write(requests.join(''));
  const responses: { status: number; headers: string; body: Buffer }[] = [];
  let pending = Buffer.alloc(0);
  for await (const data of socket) {
    pending = Buffer.concat([pending, data as Buffer]);
    for (;;) {
      const end = pending.indexOf('\r\n\r\n');
      if (end < 0) break;
      const headers = pending.subarray(0, end).toString('latin1');
      const length = Number(/content-length: (\d+)/i.exec(headers)?.[1] ?? 0);
      if (pending.length < end + 4 + length) break;
      responses.push({ status: Number(headers.split(' ')[1]), headers, body: pending.subarray(end + 4, end + 4 + length) });
      pending = pending.subarray(end + 4 + length);
    }
    if (responses.length === expected) break;
  }
  socket.destroy();
  return responses;
}

/** Files of the blob store this process holds open. */
async function openBlobFiles(): Promise<number> {
  const targets = await Promise.all((await readdir('/proc/self/fd')).map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
  return targets.filter((target) => target.startsWith(h.storage.root)).length;
}

describe('large blobs', () => {
  const path = () => `/v2/app/blobs/${big.blobs[1]}`;
  const get = (range?: string) => `GET ${path()} HTTP/1.1\r\nhost: x\r\n${range ? `range: ${range}\r\n` : ''}\r\n`;

  it('serves pipelined requests on one connection byte for byte, whole and in ranges across read buffers', async () => {
    const MiB = 1024 * 1024;
    const responses = await pipelined([get(), get(`bytes=${MiB - 3}-${3 * MiB + 2}`), get(), get('bytes=-10')], 4);

    const [whole, middle, again, tail] = responses.map((r) => r.body) as [Buffer, Buffer, Buffer, Buffer];
    expect(responses.map((r) => r.status)).toEqual([200, 206, 200, 206]);
    expect(sha256(whole)).toBe(big.blobs[1]);
    expect(middle.equals(whole.subarray(MiB - 3, 3 * MiB + 3))).toBe(true);
    expect(sha256(again)).toBe(big.blobs[1]);
    expect(tail.equals(whole.subarray(-10))).toBe(true);
  });

  it('closes the file when a client leaves mid-transfer, and goes on serving', async () => {
    expect(await openBlobFiles()).toBe(0);
    const address = new URL(url);
    for (let i = 0; i < 5; i++) {
      const socket = connect(Number(address.port), address.hostname);
      // Pipelined: the second response waits, writing into Node's queue, when the client leaves.
      socket.write(get() + get());
      await new Promise((resolve) => socket.once('data', resolve));
      // Time for the second request's handler to open its file behind the first response.
      await sleep(100);
      socket.destroy();
    }
    let open = await openBlobFiles();
    for (let waited = 0; open > 0 && waited < 1000; waited += 50) {
      await sleep(50);
      open = await openBlobFiles();
    }
    expect(open).toBe(0);
    const response = await fetch(`${url}${path()}`);
    expect(sha256(Buffer.from(await response.arrayBuffer()))).toBe(big.blobs[1]);
  });

  it('closes the connection and the file of a client that stops reading', async () => {
    const impatient = new URL((await h.registry({ idleTimeoutMs: 300 })).url);
    const socket = connect(Number(impatient.port), impatient.hostname);
    socket.write(get());
    await new Promise((resolve) => socket.once('data', resolve));
    socket.pause();
    expect(await openBlobFiles()).toBe(1);

    await expect.poll(() => openBlobFiles(), { timeout: 5000 }).toBe(0);
    socket.resume();
    await new Promise((resolve) => socket.once('close', resolve));
  });
});

interface Index {
  schemaVersion: number;
  mediaType: string;
  manifests: { digest: string; artifactType?: string; annotations?: Record<string, string>; size: number; mediaType: string }[];
}

describe('referrers', () => {
  const referrersUrl = (query = '') => `${url}/v2/app/referrers/${image.digest}${query}`;
  const sorted = () => [sbom, signature, plain].map((m) => m.digest).sort();

  async function allPages(first: string): Promise<Index['manifests']> {
    const out: Index['manifests'] = [];
    for (let next: string | null = first; next;) {
      const response: Response = await fetch(next);
      expect(response.headers.get('content-type')).toBe(OCI_INDEX);
      out.push(...((await response.json()) as Index).manifests);
      const link = response.headers.get('link');
      next = link ? new URL(/<([^>]+)>/.exec(link)?.[1] ?? '', url).href : null;
    }
    return out;
  }

  it('lists every referrer with artifactType (falling back to the config type) and annotations, paged by Link', async () => {
    const first = await fetch(referrersUrl());
    const body = (await first.json()) as Index;
    expect(body.schemaVersion).toBe(2);
    expect(body.mediaType).toBe(OCI_INDEX);
    expect(body.manifests).toHaveLength(2);
    expect(first.headers.get('link')).toMatch(/^<\/v2\/app\/referrers\/sha256:[0-9a-f]{64}\?last=sha256%3A[0-9a-f]{64}>; rel="next"$/);
    expect(first.headers.get('oci-filters-applied')).toBeNull();
    const all = await allPages(referrersUrl());
    expect(all.map((m) => m.digest)).toEqual(sorted());
    const byDigest = new Map(all.map((m) => [m.digest, m]));
    expect(byDigest.get(sbom.digest)).toEqual({ mediaType: sbom.mediaType, digest: sbom.digest, size: sbom.bytes.length, artifactType: SPDX });
    expect(byDigest.get(signature.digest)?.annotations).toEqual({ 'org.example.signed-by': 'tester' });
    expect(byDigest.get(plain.digest)?.artifactType).toBe('application/vnd.oci.image.config.v1+json');
  });

  it('filters by artifactType and says so', async () => {
    const response = await fetch(referrersUrl(`?artifactType=${encodeURIComponent(SPDX)}`));
    expect(response.headers.get('oci-filters-applied')).toBe('artifactType');
    expect(((await response.json()) as Index).manifests.map((m) => m.digest)).toEqual([sbom.digest]);
    const none = await fetch(referrersUrl('?artifactType=application/vnd.none'));
    expect(((await none.json()) as Index).manifests).toEqual([]);
  });

  it('answers an empty index for unknown digests and for referrers of another distribution; 400 for malformed ones', async () => {
    for (const digest of [sha256(Buffer.from('nothing')), other.digest]) {
      const response = await fetch(`${url}/v2/app/referrers/${digest}`);
      expect(response.status).toBe(200);
      expect(((await response.json()) as Index).manifests).toEqual([]);
    }
    const leak = await fetch(`${url}/v2/other/referrers/${image.digest}`);
    expect(((await leak.json()) as Index).manifests).toEqual([]);
    const malformed = await fetch(`${url}/v2/app/referrers/sha256:1234`);
    expect([malformed.status, await errorCode(malformed)]).toEqual([400, 'DIGEST_INVALID']);
  });

  it('hashes what it serves as the upstream stored it', async () => {
    const response = await fetch(`${url}/v2/app/manifests/${sbom.digest}`);
    expect(
      createHash('sha256')
        .update(Buffer.from(await response.arrayBuffer()))
        .digest('hex'),
    ).toBe(sbom.digest.slice(7));
  });
});
