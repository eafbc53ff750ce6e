import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  buildAndPush,
  makeTempDir,
  pushImage,
  removeDir,
  scrapeMetrics,
  sha256,
  startDistribution,
  startFaultProxy,
  type Distribution,
  type FaultProxy,
} from '@cistern/testkit';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RegistryHarness } from './harness.ts';

const run = promisify(execFile);
const h = new RegistryHarness();
let upstream: Distribution;
let secured: Distribution;
let proxy: FaultProxy;
let urls: string[];
let host: string;
let dir: string;
const ACCEPT =
  'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json';

function tool(command: string, args: string[]) {
  return run(command, args, { env: { ...process.env, HOME: dir, XDG_RUNTIME_DIR: dir }, maxBuffer: 64 * 1024 * 1024 });
}

const skopeo = (...args: string[]) => tool('skopeo', args);
const podman = (...args: string[]) =>
  tool('podman', ['--storage-driver', 'vfs', '--root', join(dir, 'podman-root'), '--runroot', join(dir, 'podman-run'), ...args]);

/** The upstream's digest of a tag: what every client must see through the cache. */
async function upstreamDigest(target: Distribution, repository: string, tag: string): Promise<string> {
  const authorization = await target.authorization(repository);
  const response = await fetch(`${target.url}/v2/${repository}/manifests/${tag}`, {
    method: 'HEAD',
    headers: { accept: ACCEPT, ...(authorization ? { authorization } : {}) },
  });
  return response.headers.get('docker-content-digest') ?? '';
}

/** skopeo copies `reference` into an OCI layout: the digest it wrote. */
async function copy(reference: string, into: string): Promise<string> {
  const layout = join(dir, into);
  await skopeo('copy', '--preserve-digests', '--src-tls-verify=false', `docker://${host}/${reference}`, `oci:${layout}:x`);
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  return index.manifests[0]?.digest ?? '';
}

beforeAll(async () => {
  await h.start();
  dir = await makeTempDir('ptc');
  upstream = await startDistribution();
  secured = await startDistribution({ auth: 'token' });
  proxy = await startFaultProxy(upstream.url);
  const remote = await h.remote({ url: proxy.url, upstreamName: null, policy: 'on_demand' });
  await h.db.prisma.distribution.create({ data: { name: 'hub', basePath: 'hub', remoteId: remote.id, tagTtlSeconds: 300 } });
  const withCredentials = await h.remote({ url: secured.url, upstreamName: null, username: secured.username, password: secured.password, policy: 'on_demand' });
  await h.db.prisma.distribution.create({ data: { name: 'secured', basePath: 'secured', remoteId: withCredentials.id, tagTtlSeconds: 300 } });
  await buildAndPush(upstream, 'lib/app', 'v1');
  await buildAndPush(upstream, 'lib/tool', 'v1', { format: 'v2s2' });
  await buildAndPush(secured, 'team/app', 'v1');
  // Two registry processes over one database, store and Redis.
  urls = [(await h.registry()).url, (await h.registry()).url];
  host = new URL(urls[0] ?? '').host;
}, 180_000);

beforeEach(() => proxy.reset());

afterAll(async () => {
  await proxy?.stop();
  await upstream?.stop();
  await secured?.stop();
  await h.stop();
  if (dir) await removeDir(dir);
});

describe('pull-through with real clients', () => {
  it('skopeo copies through the cache; the second copy makes no upstream GET', async () => {
    const digest = await upstreamDigest(upstream, 'lib/app', 'v1');
    proxy.reset();
    expect(await copy('hub/lib/app:v1', 'first')).toBe(digest);
    expect(proxy.count('GET', 'manifest')).toBe(1);
    expect(proxy.count('GET', 'blob')).toBeGreaterThanOrEqual(2);
    proxy.reset();
    expect(await copy('hub/lib/app:v1', 'second')).toBe(digest);
    expect([proxy.count('GET', 'manifest'), proxy.count('GET', 'blob')]).toEqual([0, 0]);
  });

  it('podman pulls a Docker v2s2 image through the cache, and again with no upstream GET', async () => {
    const digest = await upstreamDigest(upstream, 'lib/tool', 'v1');
    await podman('pull', '--tls-verify=false', `${host}/hub/lib/tool:v1`);
    const { stdout } = await podman('image', 'inspect', '--format', '{{.Digest}}', `${host}/hub/lib/tool:v1`);
    expect(stdout.trim()).toBe(digest);
    await podman('rmi', `${host}/hub/lib/tool:v1`);
    proxy.reset();
    await podman('pull', '--tls-verify=false', `${host}/hub/lib/tool:v1`);
    expect([proxy.count('GET', 'manifest'), proxy.count('GET', 'blob')]).toEqual([0, 0]);
  });

  it('pulls from an upstream that wants a token, with the remote credentials, which never reach the client', async () => {
    const digest = await upstreamDigest(secured, 'team/app', 'v1');
    expect(await copy('secured/team/app:v1', 'secured')).toBe(digest);
    const response = await fetch(`${urls[1]}/v2/secured/team/app/manifests/v1`, { headers: { accept: ACCEPT } });
    const text = JSON.stringify([...response.headers]) + (await response.text());
    expect(text).not.toContain(secured.password);
  });

  it('makes one upstream GET per object for 50 concurrent first pulls through two registry processes', async () => {
    const image = await pushImage(upstream, 'lib/crowd', 'v1', { layers: [randomBytes(256 * 1024), randomBytes(64 * 1024)] });
    // Both processes count into this one test process's registry of metrics.
    const coalesced = async () => (await scrapeMetrics(`${urls[0]}/metrics`)).value('cistern_pull_through_coalesced_total', { object: 'manifest' });
    const before = await coalesced();
    proxy.reset();
    proxy.inject({ kind: 'manifest', fault: { type: 'delay', ms: 300 } });
    proxy.inject({ kind: 'blob', fault: { type: 'stall', ms: 200 } });
    const pulls = Array.from({ length: 50 }, async (_, i) => {
      const base = `${urls[i % 2]}/v2/hub/lib/crowd`;
      const response = await fetch(`${base}/manifests/v1`, { headers: { accept: ACCEPT } });
      expect(response.headers.get('docker-content-digest')).toBe(image.digest);
      await response.arrayBuffer();
      for (const blob of image.blobs) expect(sha256(Buffer.from(await (await fetch(`${base}/blobs/${blob}`)).arrayBuffer()))).toBe(blob);
    });
    await Promise.all(pulls);
    expect(await coalesced()).toBeGreaterThan(before);
    expect(proxy.count('GET', 'manifest')).toBe(1);
    expect(proxy.count('GET', 'blob')).toBe(image.blobs.length);
  }, 60_000);
});
