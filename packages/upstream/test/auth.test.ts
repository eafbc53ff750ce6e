import { MediaType } from '@cistern/oci';
import {
  makeTestCertificate,
  startConnectProxy,
  startSyntheticUpstream,
  type ConnectProxy,
  type SyntheticUpstream,
  type TestCertificate,
} from '@cistern/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpstreamClient } from '../src/index.ts';
import { FAST } from './helpers.ts';

const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] }));
/** An UpstreamError's message: what went wrong, then `(HTTP <status> <url>)`. */
const saying = (message: string) => expect.stringMatching(new RegExp(`^${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(HTTP 40[13] `));
const basic = (username: string, password: string) => `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;

describe('an upstream that asks for credentials', () => {
  it('tells a remote without credentials to set them, and one with wrong ones that they were refused', async () => {
    const upstream = await startSyntheticUpstream({ basicAuth: { username: 'mirror', password: 'right' } });
    upstream.addManifest('team/app', index, MediaType.OciIndex, ['v1']);
    try {
      const remote = { url: upstream.url, upstreamName: 'team/app', ...FAST };
      await expect(new UpstreamClient({ ...remote, limitKey: 'none' }).headManifest('v1')).rejects.toMatchObject({
        code: 'UNAUTHORIZED',
        message: saying('upstream requires credentials and the remote has none: set username and password on the remote'),
      });
      await expect(new UpstreamClient({ ...remote, limitKey: 'wrong', username: 'mirror', password: 'wrong' }).headManifest('v1')).rejects.toMatchObject({
        code: 'UNAUTHORIZED',
        message: expect.stringMatching(/^upstream refused the credentials/),
      });
    } finally {
      await upstream.stop();
    }
  });
});

describe('a Bearer upstream whose repository is private', () => {
  it('tells a remote without credentials that the upstream requires them, whether the realm or the registry says no; with credentials, that they were refused', async () => {
    const realm = await startSyntheticUpstream();
    // An anonymous token for anyone (as Docker Hub gives), refused by the registry for a private repository.
    realm.intercept((req, res) => {
      const authorized = req.headers.authorization === basic('mirror', 'right');
      if (!authorized && req.url?.includes('service=strict')) res.writeHead(401).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: authorized ? 'granted' : 'anonymous' }));
      return true;
    });
    const registry = await startSyntheticUpstream();
    registry.addManifest('team/app', index, MediaType.OciIndex, ['v1']);
    let service = 'lenient';
    registry.intercept((req, res) => {
      if (req.headers.authorization === 'Bearer granted') return false;
      res.writeHead(401, { 'www-authenticate': `Bearer realm="${realm.url}/token",service="${service}"` }).end();
      return true;
    });
    const remote = { url: registry.url, upstreamName: 'team/app', ...FAST };
    const none = 'upstream requires credentials and the remote has none: set username and password on the remote';
    try {
      await expect(new UpstreamClient({ ...remote, limitKey: 'anon' }).headManifest('v1')).rejects.toMatchObject({
        code: 'UNAUTHORIZED',
        message: saying(none),
      });
      await expect(new UpstreamClient({ ...remote, limitKey: 'wrong', username: 'mirror', password: 'wrong' }).headManifest('v1')).rejects.toMatchObject({
        code: 'UNAUTHORIZED',
        message: saying('upstream refused the credentials'),
      });
      expect((await new UpstreamClient({ ...remote, limitKey: 'right', username: 'mirror', password: 'right' }).headManifest('v1')).mediaType).toBe(
        MediaType.OciIndex,
      );
      service = 'strict';
      await expect(new UpstreamClient({ ...remote, limitKey: 'strict' }).headManifest('v1')).rejects.toMatchObject({
        code: 'UNAUTHORIZED',
        message: saying(
          'the token realm refused an anonymous token: the upstream requires credentials and the remote has none: set username and password on the remote',
        ),
      });
    } finally {
      await registry.stop();
      await realm.stop();
    }
  });

  it('says a challenge no credentials answer is one, not that credentials were refused', async () => {
    const upstream = await startSyntheticUpstream();
    upstream.intercept((_req, res) => {
      res.writeHead(401, { 'www-authenticate': 'Negotiate' }).end();
      return true;
    });
    try {
      await expect(
        new UpstreamClient({ url: upstream.url, upstreamName: 'team/app', limitKey: 'negotiate', username: 'mirror', password: 'right', ...FAST }).headManifest(
          'v1',
        ),
      ).rejects.toMatchObject({
        code: 'UNAUTHORIZED',
        message: saying('upstream asked for authentication Cistern cannot answer (WWW-Authenticate: Negotiate); it answers Basic and Bearer with a realm'),
      });
    } finally {
      await upstream.stop();
    }
  });
});

describe('the registry auth state shared by the clients of one remote', () => {
  it('is not shared by clients with another username: each sends its own', async () => {
    const upstream = await startSyntheticUpstream({ basicAuth: { username: 'new-user', password: 'same-pw' } });
    upstream.addManifest('team/app', index, MediaType.OciIndex, ['v1']);
    try {
      const remote = { url: upstream.url, upstreamName: 'team/app', limitKey: 'auth-username', password: 'same-pw', ...FAST };
      // The remote as it was: a username the upstream refuses.
      await expect(new UpstreamClient({ ...remote, username: 'old-user' }).headManifest('v1')).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
      // The remote after its username changed.
      const seen = upstream.requests.length;
      expect((await new UpstreamClient({ ...remote, username: 'new-user' }).headManifest('v1')).mediaType).toBe(MediaType.OciIndex);
      expect(upstream.requests.slice(seen).map((r) => r.headers.authorization)).toContain(basic('new-user', 'same-pw'));
      expect(upstream.requests.slice(seen).map((r) => r.headers.authorization)).not.toContain(basic('old-user', 'same-pw'));
    } finally {
      await upstream.stop();
    }
  });

  describe('over TLS', () => {
    let cert: TestCertificate;
    let proxy: ConnectProxy;
    let registry: SyntheticUpstream;
    let realm: SyntheticUpstream;
    beforeAll(async () => {
      cert = await makeTestCertificate();
      proxy = await startConnectProxy();
      realm = await startSyntheticUpstream({ tls: cert });
      realm.intercept((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"token":"tok"}');
        return true;
      });
      registry = await startSyntheticUpstream({ tls: cert });
      for (const name of ['team/one', 'team/two']) registry.addManifest(name, index, MediaType.OciIndex, ['v1']);
      registry.intercept((req, res) => {
        if (req.headers.authorization === 'Bearer tok') return false;
        res.writeHead(401, { 'www-authenticate': `Bearer realm="${realm.url}/token",service="registry"` }).end();
        return true;
      });
    });
    afterAll(async () => {
      await registry.stop();
      await realm.stop();
      await proxy.stop();
    });

    it("is not shared by clients with another transport: the token realm is reached through the client's own proxy", async () => {
      const remote = { url: registry.url, caCert: cert.cert, limitKey: 'auth-transport', username: 'u', password: 'p', ...FAST };
      await new UpstreamClient({ ...remote, upstreamName: 'team/one' }).headManifest('v1');
      expect(proxy.tunnels).toEqual([]);
      // The remote after a proxy was set: another scope, so a token fetch, through the proxy.
      await new UpstreamClient({ ...remote, upstreamName: 'team/two', proxyUrl: proxy.url }).headManifest('v1');
      expect(proxy.tunnels).toContain(new URL(realm.url).host);
    });

    it('never sends the credentials of an https registry to a token realm on http', async () => {
      const plain = await startSyntheticUpstream();
      plain.intercept((req, res) => {
        if (req.headers.authorization === basic('u', 'p')) res.writeHead(200, { 'content-type': 'application/json' }).end('{"token":"tok"}');
        else res.writeHead(401, { 'www-authenticate': 'Basic realm="tokens"' }).end();
        return true;
      });
      const downgrading = await startSyntheticUpstream({ tls: cert });
      downgrading.addManifest('team/one', index, MediaType.OciIndex, ['v1']);
      downgrading.intercept((req, res) => {
        if (req.headers.authorization === 'Bearer tok') return false;
        res.writeHead(401, { 'www-authenticate': `Bearer realm="${plain.url}/token",service="registry"` }).end();
        return true;
      });
      try {
        const client = new UpstreamClient({ url: downgrading.url, upstreamName: 'team/one', caCert: cert.cert, username: 'u', password: 'p', ...FAST });
        await expect(client.headManifest('v1')).rejects.toMatchObject({
          code: 'UNAUTHORIZED',
          message: saying("the token realm refused an anonymous token: it is on http: and the remote's credentials are sent over https only"),
        });
        expect(plain.requests.length).toBeGreaterThan(0);
        expect(plain.requests.map((r) => r.headers.authorization)).toEqual(plain.requests.map(() => undefined));
      } finally {
        await downgrading.stop();
        await plain.stop();
      }
    });
  });
});
