import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAndPush, pushImage, pushMultiArch, startDistribution, type Distribution } from '@cistern/testkit';
import { UpstreamClient, type UpstreamError } from '../src/index.ts';
import { FAST, recordingSink } from './helpers.ts';

describe('against Distribution without auth', () => {
  let registry: Distribution;
  beforeAll(async () => {
    registry = await startDistribution();
  });
  afterAll(async () => registry.stop());

  it('pings, lists the unpaged tag list, HEADs and GETs manifests and streams blobs', async () => {
    const image = await pushImage(registry, 'lib/app', 'v1');
    await pushImage(registry, 'lib/app', 'v2', { format: 'docker' });
    const client = new UpstreamClient({ url: registry.url, upstreamName: 'lib/app', ...FAST });
    await client.ping();
    const tags: string[] = [];
    for await (const tag of client.tags()) tags.push(tag);
    expect(tags).toEqual(['v1', 'v2']);

    const head = await client.headManifest('v1');
    expect(head).toEqual({ digest: image.digest, mediaType: image.mediaType, size: image.bytes.length });
    const got = await client.getManifest(image.digest);
    expect(got.bytes).toEqual(image.bytes);
    expect((await client.headManifest('v2')).mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');

    const layer = image.blobs[1] ?? '';
    const sink = recordingSink();
    const info = await client.getBlob(layer, sink);
    expect(sink.finished).toBe(true);
    expect(info.size).toBe(sink.bytes().length);
    expect((await client.headBlob(layer)).size).toBe(info.size);
    expect(client.requestStats().tokenFetches).toBe(0);
  });

  it('reads multi-arch indexes, skopeo v2s2 pushes, and no referrers where the API answers 404', async () => {
    const { index } = await pushMultiArch(registry, 'lib/multi', 'latest');
    const client = new UpstreamClient({ url: registry.url, upstreamName: 'lib/multi', ...FAST });
    expect((await client.getManifest('latest')).digest).toBe(index.digest);

    expect((await client.listReferrers(index.digest)).manifests).toEqual([]);
    expect((await client.listReferrers(index.digest)).source).toBe('missing');

    await buildAndPush(registry, 'lib/docker', '1.0', { format: 'v2s2' });
    const docker = new UpstreamClient({ url: registry.url, upstreamName: 'lib/docker', ...FAST });
    const manifest = await docker.getManifest('1.0');
    expect(manifest.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    expect((await docker.headManifest('1.0')).digest).toBe(manifest.digest);
  });

  it('fails unknown names and manifests at once with typed codes', async () => {
    const client = new UpstreamClient({ url: registry.url, upstreamName: 'nothing/here', ...FAST });
    // Distribution says MANIFEST_UNKNOWN for a manifest of an unknown repository, NAME_UNKNOWN for its tags.
    await expect(client.getManifest('latest')).rejects.toMatchObject({ code: 'MANIFEST_UNKNOWN', retryable: false, status: 404 });
    await expect(client.tags().next()).rejects.toMatchObject({ code: 'NAME_UNKNOWN', retryable: false, status: 404 });
    const app = new UpstreamClient({ url: registry.url, upstreamName: 'lib/app', ...FAST });
    await expect(app.headManifest('nope')).rejects.toMatchObject({ code: 'MANIFEST_UNKNOWN' });
    await expect(app.headBlob(`sha256:${'0'.repeat(64)}`)).rejects.toMatchObject({ code: 'BLOB_UNKNOWN' });
    expect(app.requestStats().retries).toBe(0);
  });
});

describe('against Distribution with htpasswd', () => {
  let registry: Distribution;
  beforeAll(async () => {
    registry = await startDistribution({ auth: 'htpasswd' });
  });
  afterAll(async () => registry.stop());

  it('answers the Basic challenge with the credentials, and fails wrong ones as UNAUTHORIZED', async () => {
    const image = await pushImage(registry, 'team/app', 'v1');
    const client = new UpstreamClient({ url: registry.url, upstreamName: 'team/app', username: 'tester', password: 'secret-pw', ...FAST });
    expect((await client.getManifest('v1')).digest).toBe(image.digest);

    const wrong = new UpstreamClient({ url: registry.url, upstreamName: 'team/app', username: 'tester', password: 'wrong-pw', ...FAST });
    const error = (await wrong.getManifest('v1').catch((e: unknown) => e)) as UpstreamError;
    expect(error).toMatchObject({ code: 'UNAUTHORIZED', retryable: false, status: 401 });
    expect(error.message).not.toContain('wrong-pw');
    const anonymous = new UpstreamClient({ url: registry.url, upstreamName: 'team/app', ...FAST });
    await expect(anonymous.ping()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });
});

describe('against Distribution with a token realm (the Docker Hub flow)', () => {
  let registry: Distribution;
  let image: Awaited<ReturnType<typeof pushImage>>;
  beforeAll(async () => {
    registry = await startDistribution({ auth: 'token' });
    image = await pushImage(registry, 'hub/app', 'v1');
    await pushImage(registry, 'hub/other', 'v1');
  });
  afterAll(async () => registry.stop());
  const tokens = () =>
    registry.tokenServer ??
    (() => {
      throw new Error('token mode');
    })();

  it('fetches one token for many requests, anonymously or with Basic credentials at the realm', async () => {
    const before = tokens().requests.length;
    const client = new UpstreamClient({ url: registry.url, upstreamName: 'hub/app', limitKey: 'token-anon', ...FAST });
    await client.ping();
    await Promise.all(Array.from({ length: 20 }, () => client.headManifest('v1')));
    for (let i = 0; i < 5; i += 1) expect((await client.getManifest(image.digest)).digest).toBe(image.digest);
    expect(tokens().requests.length - before).toBe(1);
    expect(tokens().requests.at(-1)).toMatchObject({ service: 'test-registry', scopes: ['repository:hub/app:pull'], user: null });

    const withUser = new UpstreamClient({
      url: registry.url,
      upstreamName: 'hub/app',
      username: 'tester',
      password: 'secret-pw',
      limitKey: 'token-user',
      ...FAST,
    });
    await withUser.headManifest('v1');
    expect(tokens().requests.at(-1)?.user).toBe('tester');
    const badUser = new UpstreamClient({ url: registry.url, upstreamName: 'hub/app', username: 'tester', password: 'nope', limitKey: 'token-bad', ...FAST });
    await expect(badUser.headManifest('v1')).rejects.toMatchObject({ code: 'UNAUTHORIZED', retryable: false });
  });

  it('refreshes a token the registry refuses (wrong repository, expired) once, and fails when it stays wrong', async () => {
    const client = new UpstreamClient({ url: registry.url, upstreamName: 'hub/other', limitKey: 'token-quirks', ...FAST });
    tokens().misbehave('wrong-repo');
    await client.headManifest('v1');
    tokens().misbehave('expired');
    await client.headManifest('v1');
    expect(client.requestStats().tokenFetches).toBe(2);

    const doomed = new UpstreamClient({ url: registry.url, upstreamName: 'hub/other', limitKey: 'token-doomed', ...FAST });
    tokens().misbehave('wrong-repo', 'wrong-repo', 'wrong-repo');
    await expect(doomed.headManifest('v1')).rejects.toMatchObject({ code: 'UNAUTHORIZED', retryable: false });
    expect(doomed.requestStats().requests).toBe(3);
    tokens().misbehave(); // the third quirk is still queued: drain it with a good request
    await doomed.headManifest('v1').catch(() => undefined);
  });
});

describe('token expiry (and a realm answering access_token only)', () => {
  let registry: Distribution;
  beforeAll(async () => {
    registry = await startDistribution({ auth: 'token', token: { expiresIn: 1, field: 'access_token' } });
    await pushImage(registry, 'short/app', 'v1');
  });
  afterAll(async () => registry.stop());

  it('fetches a new token when expires_in has run out', async () => {
    const client = new UpstreamClient({ url: registry.url, upstreamName: 'short/app', ...FAST });
    await client.headManifest('v1');
    await client.headManifest('v1');
    expect(client.requestStats().tokenFetches).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await client.headManifest('v1');
    expect(client.requestStats().tokenFetches).toBe(2);
  });
});
