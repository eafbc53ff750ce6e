import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { MediaType } from '@cistern/oci';
import { closeServer, listenLocal, makeTestCertificate, startSyntheticUpstream, type SyntheticUpstream } from '@cistern/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpstreamClient } from '../src/index.ts';
import { FAST } from './helpers.ts';

interface Logged {
  url: string;
  authorization: string | undefined;
}

/** A small HTTP origin that logs what it received and answers with `handle`. */
async function startOrigin(handle: (req: IncomingMessage, res: ServerResponse) => void) {
  const requests: Logged[] = [];
  const server = createServer((req, res) => {
    requests.push({ url: req.url ?? '/', authorization: req.headers.authorization });
    req.resume();
    handle(req, res);
  });
  const url = await listenLocal(server);
  return { url, requests, stop: () => closeServer(server) };
}

const credentials = { username: 'mirror', password: 's3cret' };
const basic = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;

describe('redirects on every request', () => {
  let target: SyntheticUpstream;
  let targetToken: Awaited<ReturnType<typeof startOrigin>>;
  let registry: Awaited<ReturnType<typeof startOrigin>>;
  let manifestDigest: string;

  beforeAll(async () => {
    // The target (another origin, another path) challenges for a token from its own realm, as Artifact Registry does.
    targetToken = await startOrigin((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"token":"target-token","expires_in":300}'));
    target = await startSyntheticUpstream();
    target.intercept((req, res) => {
      if (req.headers.authorization === 'Bearer target-token') return false;
      res.writeHead(401, { 'www-authenticate': `Bearer realm="${targetToken.url}/token",service="target",scope="repository:project/images/app:pull"` }).end();
      return true;
    });
    const config = target.addBlob('project/images/app', Buffer.from('{}'));
    manifestDigest = target.addManifest(
      'project/images/app',
      Buffer.from(
        JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: { mediaType: MediaType.OciConfig, digest: config, size: 2 }, layers: [] }),
      ),
      MediaType.OciManifest,
      ['v1'],
    );
    // The registry the remote names wants Basic credentials and redirects everything elsewhere.
    registry = await startOrigin((req, res) => {
      if (req.headers.authorization !== basic) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="registry"' }).end();
        return;
      }
      const path = (req.url ?? '/').replace('/v2/app/', '/v2/project/images/app/');
      res.writeHead(307, { location: `${target.url}${path}` }).end();
    });
  });
  afterAll(async () => {
    await registry.stop();
    await target.stop();
    await targetToken.stop();
  });

  const client = () => new UpstreamClient({ url: registry.url, upstreamName: 'app', ...credentials, ...FAST });

  it('follows them for tags and manifests, and the target is authenticated only on its own terms', async () => {
    const c = client();
    const tags: string[] = [];
    for await (const tag of c.tags()) tags.push(tag);
    expect(tags).toEqual(['v1']);
    expect((await c.headManifest('v1')).digest).toBe(manifestDigest);
    expect((await c.getManifest(manifestDigest)).digest).toBe(manifestDigest);

    // The registry's credentials never left its origin; the target's token never reached the registry.
    expect(target.requests.every((r) => r.headers.authorization === undefined || r.headers.authorization === 'Bearer target-token')).toBe(true);
    expect(targetToken.requests.every((r) => r.authorization === undefined)).toBe(true);
    expect(registry.requests.every((r) => r.authorization === undefined || r.authorization === basic)).toBe(true);
    // The target's realm was asked for the scope its challenge named.
    expect(new URL(targetToken.requests[0]?.url ?? '/', 'http://x').searchParams.get('scope')).toBe('repository:project/images/app:pull');
    expect(targetToken.requests).toHaveLength(1);
  });

  it('refuses a redirect from https to http, and a chain that never ends', async () => {
    const cert = await makeTestCertificate();
    const secure = await startSyntheticUpstream({ tls: cert });
    const looping = await startOrigin((req, res) => res.writeHead(302, { location: req.url ?? '/' }).end());
    try {
      secure.intercept((req, res) => {
        res.writeHead(307, { location: `${target.url}${req.url ?? '/'}` }).end();
        return true;
      });
      const downgrade = new UpstreamClient({ url: secure.url, upstreamName: 'app', caCert: cert.cert, ...FAST });
      await expect(downgrade.headManifest('v1')).rejects.toMatchObject({ code: 'UPSTREAM_ERROR', message: expect.stringMatching(/https to http/) });
      expect(target.requests.filter((r) => r.url.includes('/v2/app/'))).toEqual([]);

      const loop = new UpstreamClient({ url: looping.url, upstreamName: 'app', ...FAST });
      await expect(loop.headManifest('v1')).rejects.toMatchObject({ code: 'UPSTREAM_ERROR', message: expect.stringMatching(/more than 10 redirects/) });
      expect(looping.requests).toHaveLength(11);
    } finally {
      await secure.stop();
      await looping.stop();
    }
  });

  it('follows a redirect of the token realm, with the credentials only for the realm the registry named', async () => {
    const moved = await startOrigin((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"token":"realm-token"}'));
    const realm = await startOrigin((req, res) => res.writeHead(307, { location: `${moved.url}${req.url ?? '/'}` }).end());
    const upstream = await startSyntheticUpstream();
    upstream.addManifest('app', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] })), MediaType.OciIndex, ['v1']);
    upstream.intercept((req, res) => {
      if (req.headers.authorization === 'Bearer realm-token') return false;
      res.writeHead(401, { 'www-authenticate': `Bearer realm="${realm.url}/token",service="registry"` }).end();
      return true;
    });
    try {
      const c = new UpstreamClient({ url: upstream.url, upstreamName: 'app', ...credentials, ...FAST });
      expect((await c.getManifest('v1')).mediaType).toBe(MediaType.OciIndex);
      expect(realm.requests.map((r) => r.authorization)).toEqual([basic]);
      expect(moved.requests.map((r) => r.authorization)).toEqual([undefined]);
    } finally {
      await upstream.stop();
      await realm.stop();
      await moved.stop();
    }
  });
});

/** An origin that challenges for a token from its own `/token`, and answers manifest HEADs to that token. */
const startChallenger = (token: string) =>
  startOrigin((req, res) => {
    const origin = `http://${req.headers.host ?? ''}`;
    if (req.url?.startsWith('/token')) return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token }));
    if (req.headers.authorization !== `Bearer ${token}`) return void res.writeHead(401, { 'www-authenticate': `Bearer realm="${origin}/token"` }).end();
    res.writeHead(200, { 'content-type': MediaType.OciIndex, 'content-length': '2', 'docker-content-digest': `sha256:${'0'.repeat(64)}` }).end();
  });

const tokenFetches = (origins: Array<{ requests: Logged[] }>) => origins.reduce((n, o) => n + o.requests.filter((r) => r.url.startsWith('/token')).length, 0);

describe('redirects to origins that each challenge', () => {
  it('stop after a bounded number of auth rounds when every attempt lands on a new origin', async () => {
    const fresh: Array<Awaited<ReturnType<typeof startChallenger>>> = [];
    const registry = await startOrigin((req, res) => {
      if (fresh.length >= 40) return void res.writeHead(404).end();
      void startChallenger(`fresh-${fresh.length}`).then((next) => {
        fresh.push(next);
        res.writeHead(307, { location: `${next.url}${req.url ?? '/'}` }).end();
      });
    });
    try {
      const c = new UpstreamClient({ url: registry.url, upstreamName: 'app', ...FAST });
      const error = (await c.headManifest('v1').catch((e: unknown) => e)) as Error;
      expect(error).toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringMatching(/after 4 rounds over 4 origins/) });
      expect(tokenFetches(fresh)).toBe(4);
      expect(c.requestStats().tokenFetches).toBe(4);
    } finally {
      await registry.stop();
      await Promise.all(fresh.map((o) => o.stop()));
    }
  });

  it('keep the auth state of a few recent origins per client, not of every origin ever seen', async () => {
    const targets = await Promise.all(Array.from({ length: 17 }, (_, i) => startChallenger(`target-${i}`)));
    // Tag `t<i>` is served by target i.
    const registry = await startOrigin((req, res) => {
      const i = Number(/\/manifests\/t(\d+)$/.exec(req.url ?? '')?.[1]);
      res.writeHead(307, { location: `${targets[i]?.url ?? ''}${req.url ?? '/'}` }).end();
    });
    try {
      const c = new UpstreamClient({ url: registry.url, upstreamName: 'app', ...FAST });
      for (let i = 0; i < 17; i += 1) await c.headManifest(`t${i}`);
      await c.headManifest('t16');
      expect(tokenFetches(targets)).toBe(17);
      // Target 0's state was the oldest of 17 and was dropped: it is authenticated anew.
      await c.headManifest('t0');
      expect(tokenFetches(targets.slice(0, 1))).toBe(2);
      expect(c.requestStats().tokenFetches).toBe(18);
      // Another client has states of its own.
      await new UpstreamClient({ url: registry.url, upstreamName: 'app', ...FAST }).headManifest('t16');
      expect(tokenFetches(targets.slice(16))).toBe(2);
    } finally {
      await registry.stop();
      await Promise.all(targets.map((o) => o.stop()));
    }
  });
});
