import { randomUUID } from 'node:crypto';
import { TokenService } from '@cistern/auth';
import { catalogPage, DistributionDirectory, PullTokens, RegistryAuth } from '@cistern/registry-core';
import { pushImage, startDistribution, type Distribution, type PushedManifest } from '@cistern/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryHarness } from './harness.ts';

// Who may pull what under pull-through distributions, what the catalog lists of them, and which
// distribution the registry-mirror request shapes of dockerd and containerd reach. Nothing here
// needs cached content: access is decided before any fetch, so a 401 (or its absence) shows the route.

const h = new RegistryHarness();
let upstream: Distribution;
let url: string;
let image: PushedManifest;
const ids: Record<string, string> = {};

const basic = (secret: string) => `Basic ${Buffer.from(`anyone:${secret}`).toString('base64')}`;
const bearer = (jwt: string) => ({ authorization: `Bearer ${jwt}` });

/** What dockerd sends a mirror for `docker pull` (daemon/images, distribution/pull_v2.go's manifest Accept list). */
const DOCKERD_ACCEPT = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v1+prettyjws',
].join(', ');

async function token(scopes: string[], authorization?: string): Promise<string> {
  const query = new URLSearchParams({ service: new URL(url).host });
  for (const scope of scopes) query.append('scope', scope);
  const response = await fetch(`${url}/token?${query.toString()}`, { headers: authorization ? { authorization } : {} });
  expect(response.status).toBe(200);
  return ((await response.json()) as { token: string }).token;
}

/** The repository names a token grants pull on, read back with the registry's own key. */
async function granted(jwt: string): Promise<string[]> {
  const claims = await new PullTokens({ secretKey: h.secretKey, publicUrl: url, service: new URL(url).host }).verify(jwt);
  return (claims?.access ?? []).filter((a) => a.actions.includes('pull')).map((a) => a.name);
}

async function pullThrough(basePath: string, remoteId: string, options: { private?: boolean; registryMirror?: boolean } = {}): Promise<string> {
  const d = await h.db.prisma.distribution.create({
    data: { name: `dist-${randomUUID()}`, basePath, remoteId, private: options.private ?? false, registryMirror: options.registryMirror ?? false },
  });
  return d.id;
}

/** Cache repositories as the first pull creates them (only the rows the catalog reads). */
async function cached(pullThroughId: string, remoteId: string, upstreamNames: string[]): Promise<void> {
  await h.db.prisma.repository.createMany({
    data: upstreamNames.map((upstreamName) => ({ name: `cache-${randomUUID()}`, remoteId, upstreamName, pullThroughId, retainVersions: 3 })),
  });
}

async function catalog(query = '', headers: Record<string, string> = {}): Promise<{ names: string[]; link: string | null }> {
  const response = await fetch(`${url}/v2/_catalog${query}`, { headers });
  expect(response.status).toBe(200);
  return { names: ((await response.json()) as { repositories: string[] }).repositories, link: response.headers.get('link') };
}

/** Every catalog name, following Link pages of `n`. */
async function walkCatalog(n: number, headers: Record<string, string> = {}): Promise<{ names: string[]; pages: number }> {
  const names: string[] = [];
  let query = `?n=${n}`;
  for (let pages = 1; ; pages++) {
    const page = await catalog(query, headers);
    names.push(...page.names);
    if (!page.link) return { names, pages };
    query = (/<\/v2\/_catalog(\?[^>]*)>/.exec(page.link) as RegExpExecArray)[1] as string;
  }
}

beforeAll(async () => {
  await h.start();
  upstream = await startDistribution();
  image = await pushImage(upstream, 'lib/app', 'v1');
  const local = await h.remote({ url: upstream.url, upstreamName: null });
  // Never contacted: every request for it below ends at the 401 or at the routing.
  const hub = await h.remote({ url: 'https://registry-1.docker.io', upstreamName: null });
  ids.local = local.id;
  ids.cache = await pullThrough('cache', local.id, { private: true });
  ids.vault = await pullThrough('vault', local.id, { private: true });
  ids.open = await pullThrough('open', local.id);
  ids.openGhcr = await pullThrough('open/ghcr', local.id);
  ids.hub = await pullThrough('hub', hub.id, { private: true, registryMirror: true });
  // Exact distributions: one a docker.io-shaped name the mirror would otherwise serve, one under a pull-through prefix.
  const { repository } = await h.mirror(upstream.url, 'lib/app', 'library/app');
  await h.distribution('open/x/y', repository.id);
  // Distributions are read anew on every request: a test that creates one uses it at once.
  url = (await h.registry({ distributionTtlMs: 0 })).url;
}, 120_000);

afterAll(async () => {
  await upstream?.stop();
  await h.stop();
});

describe('pull tokens for pull-through names', () => {
  it('a base-path prefix token reaches every name below the prefix, and nothing else', async () => {
    const secret = (await new TokenService(h.db.prisma).create({ name: `t-${randomUUID()}`, scope: 'pull', basePaths: ['cache/*'] })).secret;
    const jwt = await token(
      ['repository:cache/library/alpine:pull', 'repository:cache/a/b/c:pull', 'repository:vault/library/alpine:pull', 'repository:cache:pull'],
      basic(secret),
    );
    expect(await granted(jwt)).toEqual(['cache/library/alpine', 'cache/a/b/c']);
  });

  it('an exact base-path entry reaches that one name', async () => {
    const secret = (await new TokenService(h.db.prisma).create({ name: `t-${randomUUID()}`, scope: 'pull', basePaths: ['cache/library/alpine'] })).secret;
    const jwt = await token(['repository:cache/library/alpine:pull', 'repository:cache/library/busybox:pull'], basic(secret));
    expect(await granted(jwt)).toEqual(['cache/library/alpine']);
  });

  it('a token naming the pull-through distribution reaches every name it serves, and only its own', async () => {
    const jwt = await token(
      ['repository:vault/library/alpine:pull', 'repository:vault/org/deep/app:pull', 'repository:cache/x:pull'],
      basic(await h.pullToken([ids.vault as string])),
    );
    expect(await granted(jwt)).toEqual(['vault/library/alpine', 'vault/org/deep/app']);
  });

  it('anonymous callers get public pull-through names only', async () => {
    expect(await granted(await token(['repository:open/library/alpine:pull', 'repository:cache/library/alpine:pull']))).toEqual(['open/library/alpine']);
  });

  it('challenges a tokenless pull under a private pull-through base path with the requested name as scope', async () => {
    const response = await fetch(`${url}/v2/cache/library/alpine/manifests/3.20`);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe(
      `Bearer realm="${url}/token",service="${new URL(url).host}",scope="repository:cache/library/alpine:pull"`,
    );
    const body = (await response.json()) as { errors: { code: string; detail: unknown }[] };
    expect(body.errors[0]).toMatchObject({ code: 'UNAUTHORIZED', detail: [{ Type: 'repository', Name: 'cache/library/alpine', Action: 'pull' }] });
  });

  it('lets the granted name through and refuses a sibling with insufficient_scope', async () => {
    const jwt = await token(['repository:cache/nothing/here:pull'], basic(await h.pullToken([ids.cache as string])));
    // Past the access check; the upstream has no such repository.
    expect((await fetch(`${url}/v2/cache/nothing/here/manifests/v1`, { headers: bearer(jwt) })).status).toBe(404);
    const sibling = await fetch(`${url}/v2/cache/nothing/else/manifests/v1`, { headers: bearer(jwt) });
    expect(sibling.status).toBe(401);
    expect(sibling.headers.get('www-authenticate')).toContain('scope="repository:cache/nothing/else:pull",error="insufficient_scope"');
  });
});

describe('the catalog of pull-through distributions', () => {
  beforeAll(async () => {
    await cached(ids.open as string, ids.local as string, ['library/busybox', 'library/alpine', 'z/last', 'x/y', 'ghcr/org/app']);
    await cached(ids.openGhcr as string, ids.local as string, ['org/app', 'org/tool']);
    await cached(ids.cache as string, ids.local as string, ['library/alpine', 'library/busybox']);
  });

  it('lists cache repositories under their base path, never a bare pull-through base path, each name once, in byte order', async () => {
    // open/x/y is an exact distribution and open/ghcr/org/app the longer prefix's: each listed once, as the one that serves it.
    expect((await catalog()).names).toEqual([
      'library/app',
      'open/ghcr/org/app',
      'open/ghcr/org/tool',
      'open/library/alpine',
      'open/library/busybox',
      'open/x/y',
      'open/z/last',
    ]);
  });

  it('lists a private pull-through distribution only as far as the token grants', async () => {
    const jwt = await token(['repository:cache/library/alpine:pull', 'repository:cache/not/cached:pull'], basic(await h.pullToken([ids.cache as string])));
    const { names } = await catalog('', bearer(jwt));
    expect(names.filter((n) => n.startsWith('cache'))).toEqual(['cache/library/alpine']);
  });

  it('lists every private name an API token reaches to a catalog grant (what `crane catalog` asks for), and none without one', async () => {
    const prefixed = (await new TokenService(h.db.prisma).create({ name: `t-${randomUUID()}`, scope: 'pull', basePaths: ['cache/library/*'] })).secret;
    const privates = (names: string[]) => names.filter((n) => n.startsWith('cache') || n.startsWith('vault') || n.startsWith('hub'));
    const list = async (secret: string, scopes = ['registry:catalog:*']) => privates((await catalog('', bearer(await token(scopes, basic(secret))))).names);
    expect(await list(prefixed)).toEqual(['cache/library/alpine', 'cache/library/busybox']);
    expect(await list(await h.pullToken([ids.cache as string]))).toEqual(['cache/library/alpine', 'cache/library/busybox']);
    expect(await list(await h.pullToken([ids.vault as string]))).toEqual([]);
    // A token naming only repositories lists only those, as before.
    expect(await list(prefixed, ['repository:cache/library/busybox:pull'])).toEqual(['cache/library/busybox']);
    // Anonymous: no reach, whatever it asks.
    expect(privates((await catalog('', bearer(await token(['registry:catalog:*'])))).names)).toEqual([]);
  });

  it("reads no cached name of a private distribution the catalog grant's API token does not reach, and lists nothing private once it is revoked", async () => {
    const privateIds = new Set([ids.cache, ids.vault]);
    class CountingDirectory extends DistributionDirectory {
      privateReads = 0;
      override cachedNames(distributionId: string, page: { after: string; limit: number; among?: readonly string[] }): Promise<string[]> {
        if (privateIds.has(distributionId)) this.privateReads += 1;
        return super.cachedNames(distributionId, page);
      }
    }
    const directory = new CountingDirectory(h.db.prisma, { ttlMs: 0 });
    const tokens = new TokenService(h.db.prisma);
    const auth = new RegistryAuth(new PullTokens({ secretKey: h.secretKey, publicUrl: url, service: new URL(url).host }), tokens, directory);
    const listed = async (secret: string) => {
      const caller = await auth.catalogCaller(bearer(await token(['registry:catalog:*'], basic(secret))).authorization);
      return (await catalogPage(directory, auth, caller, {})).items.filter((n) => n.startsWith('cache') || n.startsWith('vault'));
    };
    expect(await listed(await h.pullToken([ids.open as string]))).toEqual([]);
    expect(directory.privateReads).toBe(0);
    const created = await tokens.create({ name: `t-${randomUUID()}`, scope: 'pull', basePaths: ['cache/*'] });
    const jwt = await token(['registry:catalog:*'], basic(created.secret));
    expect((await catalogPage(directory, auth, await auth.catalogCaller(bearer(jwt).authorization), {})).items).toContain('cache/library/alpine');
    await tokens.revoke(created.token.id);
    expect((await catalogPage(directory, auth, await auth.catalogCaller(bearer(jwt).authorization), {})).items).not.toContain('cache/library/alpine');
  });

  it('pages by n and last across distributions with a Link to each next page', async () => {
    const first = await catalog('?n=3');
    expect(first).toEqual({
      names: ['library/app', 'open/ghcr/org/app', 'open/ghcr/org/tool'],
      link: '</v2/_catalog?n=3&last=open%2Fghcr%2Forg%2Ftool>; rel="next"',
    });
    expect((await catalog('?n=2&last=open/ghcr/org/tool')).names).toEqual(['open/library/alpine', 'open/library/busybox']);
    expect((await catalog('?n=10&last=open/library')).names).toEqual(['open/library/alpine', 'open/library/busybox', 'open/x/y', 'open/z/last']);
    expect((await catalog('?last=open/zz')).names).toEqual([]);
    // A last no name can be (a NUL sorts before every name character) still pages by byte order.
    expect((await catalog('?n=2&last=open/library%00x')).names).toEqual(['open/library/alpine', 'open/library/busybox']);
    expect((await walkCatalog(2)).names).toEqual((await catalog()).names);
  });

  it('pages through thousands of cache repositories, read in batches', async () => {
    const many = await pullThrough('many', ids.local as string);
    const names = Array.from({ length: 2500 }, (_, i) => `r/${String(i).padStart(4, '0')}`);
    await cached(many, ids.local as string, names);
    const { names: listed, pages } = await walkCatalog(700);
    const under = listed.filter((n) => n.startsWith('many/'));
    expect(under).toEqual(names.map((n) => `many/${n}`));
    expect(pages).toBe(Math.ceil(listed.length / 700));
    expect(listed).toEqual([...listed].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  });
});

describe('registry-mirror requests (dockerd registry-mirrors, containerd hosts.toml)', () => {
  it('routes names under no base path to the mirror, a base path first, and an exact distribution before both', async () => {
    const directory = new DistributionDirectory(h.db.prisma, { ttlMs: 0 });
    const route = async (name: string, ns?: string) => {
      const r = await directory.route(name, ns);
      return r && { basePath: r.distribution.basePath, upstreamName: r.upstreamName };
    };
    expect(await route('library/alpine')).toEqual({ basePath: 'hub', upstreamName: 'library/alpine' });
    for (const ns of ['docker.io', 'index.docker.io', 'registry-1.docker.io']) {
      expect(await route('library/alpine', ns)).toEqual({ basePath: 'hub', upstreamName: 'library/alpine' });
    }
    // containerd names another registry: not Docker Hub's image of the same name.
    expect(await route('library/alpine', 'ghcr.io')).toBeNull();
    expect(await route('library/alpine', upstream.url.replace(/^https?:\/\//, ''))).toBeNull();
    expect(await route('library/app', 'docker.io')).toEqual({ basePath: 'library/app', upstreamName: null });
    expect(await route('cache/library/alpine', 'ghcr.io')).toEqual({ basePath: 'cache', upstreamName: 'library/alpine' });
    expect(await route('cache')).toBeNull();
  });

  it("reaches the mirror with dockerd's request (no base path, dockerd's Accept headers)", async () => {
    for (const method of ['GET', 'HEAD']) {
      const response = await fetch(`${url}/v2/library/alpine/manifests/3.20`, { method, headers: { accept: DOCKERD_ACCEPT } });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toContain('scope="repository:library/alpine:pull"');
    }
  });

  it("reaches the mirror with containerd's ?ns=docker.io, and refuses an ns of another registry with NAME_UNKNOWN", async () => {
    for (const path of ['manifests/3.20', `blobs/${image.blobs[0] as string}`, 'tags/list']) {
      const response = await fetch(`${url}/v2/library/alpine/${path}?ns=docker.io`, { headers: { accept: DOCKERD_ACCEPT } });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toContain('scope="repository:library/alpine:pull"');
    }
    const other = await fetch(`${url}/v2/library/alpine/manifests/3.20?ns=ghcr.io`);
    expect(other.status).toBe(404);
    expect(((await other.json()) as { errors: { code: string }[] }).errors[0]?.code).toBe('NAME_UNKNOWN');
  });

  it('serves an exact distribution before the mirror, whatever ns says', async () => {
    for (const query of ['', '?ns=docker.io', '?ns=ghcr.io']) {
      const response = await fetch(`${url}/v2/library/app/manifests/v1${query}`, { headers: { accept: DOCKERD_ACCEPT } });
      expect([response.status, response.headers.get('docker-content-digest')]).toEqual([200, image.digest]);
    }
  });

  it('grants mirror names to a token naming the mirror distribution', async () => {
    const jwt = await token(['repository:library/alpine:pull', 'repository:alpine:pull'], basic(await h.pullToken([ids.hub as string])));
    expect(await granted(jwt)).toEqual(['library/alpine', 'alpine']);
  });
});
