import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildAndPush, makeTempDir, pushImage, pushIndex, removeDir, startDistribution, type Descriptor, type Distribution } from '@cistern/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryHarness } from './harness.ts';

const run = promisify(execFile);
const h = new RegistryHarness();
let upstream: Distribution;
let host: string;
let dir: string;
let secret: string;
const digests: Record<string, string> = {};
const ACCEPT =
  'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json';

/** The upstream's own answer for a tag: the digest every client must see through Cistern too. */
async function upstreamDescriptor(repo: string, tag: string): Promise<Descriptor> {
  const response = await fetch(`${upstream.url}/v2/${repo}/manifests/${tag}`, { headers: { accept: ACCEPT } });
  const bytes = Buffer.from(await response.arrayBuffer());
  return { mediaType: response.headers.get('content-type') ?? '', digest: response.headers.get('docker-content-digest') ?? '', size: bytes.length };
}

function tool(command: string, args: string[]) {
  return run(command, args, { env: { ...process.env, HOME: dir, XDG_RUNTIME_DIR: dir }, maxBuffer: 64 * 1024 * 1024 });
}

const skopeo = (...args: string[]) => tool('skopeo', args);
const podman = (...args: string[]) =>
  tool('podman', ['--storage-driver', 'vfs', '--root', join(dir, 'podman-root'), '--runroot', join(dir, 'podman-run'), ...args]);

beforeAll(async () => {
  await h.start();
  upstream = await startDistribution();
  dir = await makeTempDir('clients');
  await buildAndPush(upstream, 'lib/img', 'v1');
  await buildAndPush(upstream, 'lib/img', 'docker', { format: 'v2s2' });
  await buildAndPush(upstream, 'lib/img', 'amd64', { architecture: 'amd64' });
  await buildAndPush(upstream, 'lib/img', 'arm64', { architecture: 'arm64' });
  const amd64 = await upstreamDescriptor('lib/img', 'amd64');
  const arm64 = await upstreamDescriptor('lib/img', 'arm64');
  await pushIndex(upstream, 'lib/img', 'multi', [
    { ...amd64, platform: { architecture: 'amd64', os: 'linux' } },
    { ...arm64, platform: { architecture: 'arm64', os: 'linux' } },
  ]);
  const subject = await upstreamDescriptor('lib/img', 'v1');
  await pushImage(upstream, 'lib/img', 'artifact', { artifactType: 'application/vnd.example.report.v1', subject });
  for (const tag of ['v1', 'docker', 'multi', 'artifact']) digests[tag] = (await upstreamDescriptor('lib/img', tag)).digest;
  const { repository } = await h.mirror(upstream.url, 'lib/img', 'mirror/img');
  const privateDistribution = await h.distribution('secret/img', repository.id, true);
  secret = await h.pullToken([privateDistribution.id]);
  host = new URL((await h.registry()).url).host;
}, 180_000);

afterAll(async () => {
  await upstream?.stop();
  await h.stop();
  if (dir) await removeDir(dir);
});

describe('skopeo', () => {
  it('inspects raw manifests and lists tags with the upstream digests', async () => {
    for (const tag of ['v1', 'docker', 'multi', 'artifact']) {
      const { stdout } = await skopeo('inspect', '--tls-verify=false', '--format', '{{.Digest}}', `docker://${host}/mirror/img:${tag}`);
      expect([tag, stdout.trim()]).toEqual([tag, digests[tag]]);
    }
    const { stdout } = await skopeo('list-tags', '--tls-verify=false', `docker://${host}/mirror/img`);
    expect((JSON.parse(stdout) as { Tags: string[] }).Tags.sort()).toEqual(['amd64', 'arm64', 'artifact', 'docker', 'multi', 'v1']);
  });

  it('copies an image, a Docker v2s2 image, a multi-arch index (--all) and an artifact byte-exact', async () => {
    for (const tag of ['v1', 'docker', 'multi', 'artifact']) {
      const layout = join(dir, `copy-${tag}`);
      await skopeo('copy', '--all', '--preserve-digests', '--src-tls-verify=false', `docker://${host}/mirror/img:${tag}`, `oci:${layout}:${tag}`);
      const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
      expect([tag, index.manifests[0]?.digest]).toEqual([tag, digests[tag]]);
    }
  });

  it('pulls a private distribution only after logging in with a pull token', async () => {
    const authfile = join(dir, 'skopeo-auth.json');
    const ref = `docker://${host}/secret/img:v1`;
    await expect(skopeo('inspect', '--raw', '--tls-verify=false', '--authfile', authfile, ref)).rejects.toThrow(/unauthorized|authentication required/i);
    await skopeo('login', '--tls-verify=false', '--authfile', authfile, '-u', 'puller', '-p', secret, host);
    const { stdout } = await skopeo('inspect', '--tls-verify=false', '--authfile', authfile, '--format', '{{.Digest}}', ref);
    expect(stdout.trim()).toBe(digests.v1);
  });
});

describe('podman', () => {
  it('pulls anonymously and, after login with a pull token, from a private distribution', async () => {
    await podman('pull', '--tls-verify=false', `${host}/mirror/img:v1`);
    const { stdout } = await podman('image', 'inspect', '--format', '{{.Digest}}', `${host}/mirror/img:v1`);
    expect(stdout.trim()).toBe(digests.v1);

    const authfile = join(dir, 'podman-auth.json');
    await expect(podman('pull', '--tls-verify=false', '--authfile', authfile, `${host}/secret/img:docker`)).rejects.toThrow();
    await podman('login', '--tls-verify=false', '--authfile', authfile, '-u', 'puller', '-p', secret, host);
    await podman('pull', '--tls-verify=false', '--authfile', authfile, `${host}/secret/img:docker`);
    const pulled = await podman('image', 'inspect', '--format', '{{.Digest}}', `${host}/secret/img:docker`);
    expect(pulled.stdout.trim()).toBe(digests.docker);
  });
});
