import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAndPush, pushImage, pushMultiArch, startDistribution, type Distribution } from '../src/index.ts';

const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

async function getManifest(registry: Distribution, repo: string, ref: string, authorization?: string): Promise<Response> {
  return fetch(`${registry.url}/v2/${repo}/manifests/${ref}`, {
    headers: { accept: MANIFEST_ACCEPT, ...(authorization ? { authorization } : {}) },
  });
}

describe('Distribution without auth', () => {
  let registry: Distribution;
  beforeAll(async () => {
    registry = await startDistribution();
  });
  afterAll(async () => registry.stop());

  it('stores raw pushes byte-exact, multi-arch indexes and skopeo pushes (OCI and v2s2)', async () => {
    const image = await pushImage(registry, 'raw/app', 'v1');
    const got = await getManifest(registry, 'raw/app', 'v1');
    expect(got.headers.get('docker-content-digest')).toBe(image.digest);
    expect(Buffer.from(await got.arrayBuffer())).toEqual(image.bytes);

    const { index } = await pushMultiArch(registry, 'raw/multi', 'latest');
    const indexGot = await getManifest(registry, 'raw/multi', 'latest');
    expect(indexGot.headers.get('content-type')).toBe('application/vnd.oci.image.index.v1+json');
    expect(indexGot.headers.get('docker-content-digest')).toBe(index.digest);

    await buildAndPush(registry, 'tools/oci', '1.0');
    const oci = await getManifest(registry, 'tools/oci', '1.0');
    expect(oci.headers.get('content-type')).toBe('application/vnd.oci.image.manifest.v1+json');
    await buildAndPush(registry, 'tools/docker', '1.0', { format: 'v2s2' });
    const docker = await getManifest(registry, 'tools/docker', '1.0');
    expect(docker.headers.get('content-type')).toBe('application/vnd.docker.distribution.manifest.v2+json');
  });
});

describe('Distribution with htpasswd', () => {
  let registry: Distribution;
  beforeAll(async () => {
    registry = await startDistribution({ auth: 'htpasswd' });
  });
  afterAll(async () => registry.stop());

  it('asks for Basic and accepts the generated bcrypt line', async () => {
    const anonymous = await fetch(`${registry.url}/v2/`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic /);
    const image = await pushImage(registry, 'private/app', 'v1');
    const got = await getManifest(registry, 'private/app', 'v1', await registry.authorization('private/app'));
    expect(got.headers.get('docker-content-digest')).toBe(image.digest);
    await buildAndPush(registry, 'private/skopeo', 'v1');
  });
});

describe('Distribution with a token server', () => {
  let registry: Distribution;
  beforeAll(async () => {
    registry = await startDistribution({ auth: 'token' });
  });
  afterAll(async () => registry.stop());

  it("challenges with Bearer and accepts the realm's ES256 tokens, refusing wrong-repo and expired ones", async () => {
    const challenge = await fetch(`${registry.url}/v2/`);
    expect(challenge.status).toBe(401);
    expect(challenge.headers.get('www-authenticate')).toContain(`Bearer realm="${registry.tokenServer?.realm}"`);
    await pushImage(registry, 'hub/app', 'v1');

    const tokens = registry.tokenServer;
    if (!tokens) throw new Error('token mode has a token server');
    const ask = async (): Promise<string> => {
      const response = await fetch(`${tokens.realm}?service=${tokens.service}&scope=repository:hub/app:pull`);
      return ((await response.json()) as { token: string }).token;
    };
    expect((await getManifest(registry, 'hub/app', 'v1', `Bearer ${await ask()}`)).status).toBe(200);
    tokens.misbehave('wrong-repo', 'expired');
    expect((await getManifest(registry, 'hub/app', 'v1', `Bearer ${await ask()}`)).status).toBe(401);
    expect((await getManifest(registry, 'hub/app', 'v1', `Bearer ${await ask()}`)).status).toBe(401);
    expect((await getManifest(registry, 'hub/app', 'v1', `Bearer ${await ask()}`)).status).toBe(200);

    const wrongPassword = await fetch(tokens.realm, { headers: { authorization: `Basic ${Buffer.from('tester:nope').toString('base64')}` } });
    expect(wrongPassword.status).toBe(401);
    await buildAndPush(registry, 'hub/skopeo', 'v1', { format: 'v2s2' });
  });
});

describe('Distribution as a proxy', () => {
  let upstream: Distribution;
  let proxy: Distribution;
  beforeAll(async () => {
    upstream = await startDistribution();
    proxy = await startDistribution({ proxyOf: upstream.url });
  });
  afterAll(async () => {
    await proxy.stop();
    await upstream.stop();
  });

  it("serves the upstream's manifests and blobs and refuses pushes", async () => {
    const image = await pushImage(upstream, 'proxied/app', 'v1');
    const got = await getManifest(proxy, 'proxied/app', 'v1');
    expect(got.headers.get('docker-content-digest')).toBe(image.digest);
    const layer = await fetch(`${proxy.url}/v2/proxied/app/blobs/${image.blobs[1]}`);
    expect(layer.status).toBe(200);
    await layer.body?.cancel();
    const upload = await fetch(`${proxy.url}/v2/proxied/app/blobs/uploads/`, { method: 'POST' });
    expect(upload.status).toBe(405);
    await upload.body?.cancel();
  });
});
