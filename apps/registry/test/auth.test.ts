import { TokenService } from '@cistern/auth';
import { PullTokens } from '@cistern/registry-core';
import { pushImage, startDistribution, type Distribution, type PushedManifest } from '@cistern/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryHarness } from './harness.ts';

const h = new RegistryHarness();
let upstream: Distribution;
let url: string;
let image: PushedManifest;
let secretA: string;
let ids: Record<string, string>;

const basic = (secret: string) => `Basic ${Buffer.from(`anyone:${secret}`).toString('base64')}`;

async function token(scopes: string[], authorization?: string): Promise<string> {
  const query = new URLSearchParams({ service: new URL(url).host });
  for (const scope of scopes) query.append('scope', scope);
  const response = await fetch(`${url}/token?${query.toString()}`, { headers: authorization ? { authorization } : {} });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { token: string; access_token: string; expires_in: number };
  expect(body.access_token).toBe(body.token);
  expect(body.expires_in).toBeGreaterThan(0);
  return body.token;
}

const manifest = (basePath: string, bearer?: string) =>
  fetch(`${url}/v2/${basePath}/manifests/v1`, { headers: bearer ? { authorization: `Bearer ${bearer}` } : {} });

beforeAll(async () => {
  await h.start();
  upstream = await startDistribution();
  image = await pushImage(upstream, 'lib/app', 'v1');
  const { repository } = await h.mirror(upstream.url, 'lib/app', 'public/app');
  ids = {
    a: (await h.distribution('private/a', repository.id, true)).id,
    b: (await h.distribution('private/b', repository.id, true)).id,
  };
  secretA = await h.pullToken([ids.a as string]);
  url = (await h.registry()).url;
}, 120_000);

afterAll(async () => {
  await upstream?.stop();
  await h.stop();
});

describe('pull tokens', () => {
  it('serves public distributions with no token', async () => {
    expect((await manifest('public/app')).status).toBe(200);
  });

  it('challenges a tokenless pull of a private distribution with its scope', async () => {
    const response = await manifest('private/a');
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe(`Bearer realm="${url}/token",service="${new URL(url).host}",scope="repository:private/a:pull"`);
    expect(((await response.json()) as { errors: { code: string }[] }).errors[0]?.code).toBe('UNAUTHORIZED');
  });

  it('trades a pull API token (any user name) for a JWT that pulls its distribution and answers /v2/', async () => {
    const jwt = await token(['repository:private/a:pull'], basic(secretA));
    const response = await manifest('private/a', jwt);
    expect([response.status, response.headers.get('docker-content-digest')]).toEqual([200, image.digest]);
    expect((await fetch(`${url}/v2/`, { headers: { authorization: `Bearer ${jwt}` } })).status).toBe(200);
  });

  it('grants an anonymous token public scopes only: private pulls get insufficient_scope', async () => {
    const jwt = await token(['repository:private/a:pull', 'repository:public/app:pull']);
    expect((await manifest('public/app', jwt)).status).toBe(200);
    const denied = await manifest('private/a', jwt);
    expect(denied.status).toBe(401);
    expect(denied.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
  });

  it('refuses a token for another repository', async () => {
    const jwt = await token(['repository:private/a:pull', 'repository:private/b:pull'], basic(secretA));
    expect((await manifest('private/a', jwt)).status).toBe(200);
    const other = await manifest('private/b', jwt);
    expect(other.status).toBe(401);
    expect(other.headers.get('www-authenticate')).toContain('scope="repository:private/b:pull",error="insufficient_scope"');
  });

  it('refuses wrong API tokens at the token endpoint, and forged or expired JWTs at the registry', async () => {
    const wrong = await fetch(`${url}/token?scope=repository:private/a:pull`, { headers: { authorization: basic('cst_not-a-token') } });
    expect(wrong.status).toBe(401);
    const host = new URL(url).host;
    const expired = await new PullTokens({ secretKey: h.secretKey, publicUrl: url, service: host }).issue(
      { subject: 'x', access: [{ type: 'repository', name: 'private/a', actions: ['pull'] }] },
      new Date(Date.now() - 3_600_000),
    );
    const forged = await new PullTokens({ secretKey: Buffer.alloc(32, 1), publicUrl: url, service: host }).issue({
      subject: 'x',
      access: [{ type: 'repository', name: 'private/a', actions: ['pull'] }],
    });
    for (const bad of [expired.token, forged.token, 'not-a-jwt']) {
      const response = await manifest('private/a', bad);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
      expect((await fetch(`${url}/v2/`, { headers: { authorization: `Bearer ${bad}` } })).status).toBe(401);
    }
  });

  it('lets admin and all-distribution tokens pull everything', async () => {
    const admin = (await new TokenService(h.db.prisma).create({ name: 'admin', scope: 'admin' })).secret;
    for (const secret of [admin, await h.pullToken('all')]) {
      const jwt = await token(['repository:private/a:pull', 'repository:private/b:pull'], basic(secret));
      expect((await manifest('private/a', jwt)).status).toBe(200);
      expect((await manifest('private/b', jwt)).status).toBe(200);
    }
  });

  it('shows private distributions in the catalog only to tokens that may pull them', async () => {
    expect(await (await fetch(`${url}/v2/_catalog`)).json()).toEqual({ repositories: ['public/app'] });
    const jwt = await token(['repository:private/a:pull'], basic(secretA));
    const response = await fetch(`${url}/v2/_catalog`, { headers: { authorization: `Bearer ${jwt}` } });
    expect(await response.json()).toEqual({ repositories: ['private/a', 'public/app'] });
  });
});
