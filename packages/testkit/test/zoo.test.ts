import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addCorpus, RegistryContent, sha256, startQuay, type DockerHub, ZOO, type Corpus, type ZooMember, type ZooMemberName } from '../src/index.ts';

const run = promisify(execFile);
const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

const content = new RegistryContent();
const corpus: Corpus = addCorpus(content);
const members = {} as Record<ZooMemberName, ZooMember>;
const names = Object.keys(ZOO) as ZooMemberName[];

beforeAll(async () => {
  for (const name of names) members[name] = name === 'quay' ? await startQuay(content, { pageSize: 2 }) : await ZOO[name](content);
});
afterAll(async () => {
  await Promise.all(Object.values(members).map((m) => m.stop()));
});

/**
 * A client as the distribution spec wants one: follows redirects itself,
 * answers a challenge on the origin that sent it (Basic with the member's
 * credentials, or a token from the realm it names, with the scope it names),
 * and sends Authorization only to an origin that challenged.
 */
class SpecClient {
  private readonly auth = new Map<string, string>();
  constructor(private readonly member: ZooMember) {}

  async get(path: string, method = 'GET', accept = MANIFEST_ACCEPT): Promise<{ response: Response; body: Buffer }> {
    let url = new URL(path, this.member.url);
    const challenged = new Set<string>();
    for (let hop = 0; hop < 8; hop++) {
      const authorization = this.auth.get(url.origin);
      const response = await fetch(url, { method, redirect: 'manual', headers: { accept, ...(authorization ? { authorization } : {}) } });
      if (response.status >= 301 && response.status <= 308) {
        await response.body?.cancel();
        url = new URL(response.headers.get('location') ?? '', url);
        continue;
      }
      if (response.status === 401 && !challenged.has(url.origin)) {
        challenged.add(url.origin);
        await response.body?.cancel();
        await this.answer(url.origin, response.headers.get('www-authenticate') ?? '');
        continue;
      }
      return { response, body: Buffer.from(await response.arrayBuffer()) };
    }
    throw new Error(`${path}: too many hops`);
  }

  private async answer(origin: string, challenge: string): Promise<void> {
    const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map(([, k = '', v = '']) => [k, v]));
    const { credentials } = this.member;
    if (challenge.startsWith('Basic ') && credentials) {
      this.auth.set(origin, `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`);
      return;
    }
    if (!challenge.startsWith('Bearer ') || !params.realm) return;
    const realm = new URL(params.realm);
    if (params.service) realm.searchParams.set('service', params.service);
    if (params.scope) realm.searchParams.set('scope', params.scope);
    const { token } = (await (await fetch(realm)).json()) as { token: string };
    this.auth.set(origin, `Bearer ${token}`);
  }

  async tags(repository: string): Promise<string[]> {
    const tags: string[] = [];
    let next: string | undefined = `/v2/${repository}/tags/list`;
    while (next) {
      const { response, body } = await this.get(next, 'GET', 'application/json');
      expect(response.status).toBe(200);
      tags.push(...(JSON.parse(body.toString()) as { tags: string[] }).tags);
      next = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get('link') ?? '')?.[1];
    }
    return tags;
  }
}

describe.each(names)('zoo member %s', (name) => {
  const repository = (): string => members[name].repositoryFor(corpus.repository);

  it('serves the corpus to a client that follows the spec', async () => {
    const member = members[name];
    const client = new SpecClient(member);
    expect((await client.tags(repository())).sort()).toEqual(Object.keys(corpus.tags).sort());
    for (const [tag, digest] of Object.entries(corpus.tags)) {
      const head = await client.get(`/v2/${repository()}/manifests/${tag}`, 'HEAD');
      expect(head.response.status).toBe(200);
      expect(head.response.headers.get('docker-content-digest')).toBe(member.sendsDigests ? digest : null);
      const got = await client.get(`/v2/${repository()}/manifests/${digest}`);
      expect(sha256(got.body)).toBe(digest);
    }
    for (const blob of corpus.blobs) {
      const got = await client.get(`/v2/${repository()}/blobs/${blob}`, 'GET', '*/*');
      expect(got.response.status).toBe(200);
      expect(sha256(got.body)).toBe(blob);
    }
    const referrers = await client.get(`/v2/${repository()}/referrers/${corpus.index}`, 'GET', 'application/vnd.oci.image.index.v1+json');
    expect(referrers.response.status).toBe(member.referrersApi ? 200 : 404);
    if (member.referrersApi) {
      expect((JSON.parse(referrers.body.toString()) as { manifests: { digest: string }[] }).manifests.map((m) => m.digest)).toEqual([corpus.sbom]);
    }
    expect(member.leaks()).toBe(0);
  });
});

// skopeo sends its token to registry.k8s.io, whose redirect to another origin drops
// it, and never answers the target's own challenge (it asks only for the scope of
// the name it was given): it cannot pull from the k8s member. The spec client can.
describe.each(names.filter((n) => n !== 'k8s'))('zoo member %s with skopeo', (name) => {
  it('lists, inspects and copies the corpus', async () => {
    const member = members[name];
    const creds = member.credentials ? `${member.credentials.username}:${member.credentials.password}` : undefined;
    const image = `docker://${member.host}/${member.repositoryFor(corpus.repository)}`;
    const dir = await mkdtemp(join(tmpdir(), 'cistern-zoo-skopeo-'));
    try {
      const env = { ...process.env, HOME: dir };
      const listed = JSON.parse((await run('skopeo', ['list-tags', '--tls-verify=false', ...(creds ? ['--creds', creds] : []), image], { env })).stdout) as {
        Tags: string[];
      };
      expect(listed.Tags.sort()).toEqual(Object.keys(corpus.tags).sort());
      const raw = (
        await run('skopeo', ['inspect', '--raw', '--tls-verify=false', ...(creds ? ['--creds', creds] : []), `${image}:multi`], { env, encoding: 'buffer' })
      ).stdout;
      expect(sha256(raw)).toBe(corpus.index);
      await run(
        'skopeo',
        ['copy', '--all', '--quiet', '--src-tls-verify=false', ...(creds ? ['--src-creds', creds] : []), `${image}:multi`, `dir:${join(dir, 'copy')}`],
        { env },
      );
      // Two platform images of one config and one layer each.
      const blobs = (await readdir(join(dir, 'copy'))).filter((file) => /^[a-f0-9]{64}$/.test(file));
      expect(blobs).toHaveLength(4);
      for (const blob of blobs) expect(corpus.blobs).toContain(`sha256:${blob}`);
      expect(member.leaks()).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('what sets each member apart', () => {
  const challengeOf = (response: Response): Record<string, string> =>
    Object.fromEntries([...(response.headers.get('www-authenticate') ?? '').matchAll(/(\w+)="([^"]*)"/g)].map(([, k = '', v = '']) => [k, v]));

  it('docker-hub: a realm on another origin, library/ names, a pull budget only GETs spend', async () => {
    const hub = members['docker-hub'] as DockerHub;
    expect(new URL(challengeOf(await fetch(`${hub.url}/v2/`)).realm ?? '').origin).toBe(hub.origins.auth?.url);
    const bare = await new SpecClient(hub).get('/v2/corpus/tags/list', 'GET', 'application/json');
    expect(bare.response.status).toBe(401);
    expect(challengeOf(bare.response).error).toBe('insufficient_scope');

    const client = new SpecClient(hub);
    const left = hub.budget.remaining;
    const head = await client.get('/v2/library/corpus/manifests/multi', 'HEAD');
    expect(head.response.headers.get('ratelimit-limit')).toBe('100;w=21600');
    expect(head.response.headers.get('ratelimit-remaining')).toBe(`${left};w=21600`);
    await client.get('/v2/library/corpus/manifests/multi');
    expect(hub.budget.remaining).toBe(left - 1);
    hub.budget.remaining = 0;
    const limited = await client.get('/v2/library/corpus/manifests/multi');
    expect(limited.response.status).toBe(429);
    expect(limited.response.headers.get('retry-after')).toBe('21600');
    expect(limited.body.toString()).toContain('TOOMANYREQUESTS');
    expect((await client.get('/v2/library/corpus/manifests/multi', 'HEAD')).response.status).toBe(200);
    hub.budget.remaining = hub.budget.limit;
  });

  it('quay: pages by an opaque next_page whatever n and last say', async () => {
    const response = await fetch(`${members.quay.url}/v2/corpus/tags/list?n=100&last=multi`);
    const tags = Object.keys(corpus.tags).sort();
    expect(((await response.json()) as { tags: string[] }).tags).toEqual(tags.slice(0, 2));
    expect(response.headers.get('link')).toMatch(/^<\/v2\/corpus\/tags\/list\?n=2&next_page=[\w-]+>; rel="next"$/);
  });

  it('ecr: Basic auth, and no Docker-Content-Digest', async () => {
    const refused = await fetch(`${members.ecr.url}/v2/corpus/manifests/multi`, { method: 'HEAD' });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/^Basic realm="/);
    const got = await new SpecClient(members.ecr).get('/v2/corpus/manifests/multi');
    expect(got.response.headers.get('docker-content-digest')).toBeNull();
    expect(sha256(got.body)).toBe(corpus.index);
  });

  it('k8s: every request redirected to another origin and path that challenges on its own; blobs on to storage', async () => {
    const k8s = members.k8s;
    const target = k8s.origins['artifact-registry']?.url;
    const redirect = await fetch(`${k8s.url}/v2/corpus/tags/list?n=10`, { redirect: 'manual' });
    expect(redirect.status).toBe(307);
    expect(redirect.headers.get('location')).toBe(`${target}/v2/k8s-artifacts-prod/images/corpus/tags/list?n=10`);
    const challenged = await fetch(redirect.headers.get('location') ?? '');
    expect(challenged.status).toBe(401);
    expect(challengeOf(challenged)).toMatchObject({ realm: `${target}/v2/token`, scope: 'repository:k8s-artifacts-prod/images/corpus:pull' });

    k8s.resetCounts();
    const blob = [...corpus.blobs][0] ?? '';
    expect(sha256((await new SpecClient(k8s).get(`/v2/corpus/blobs/${blob}`, 'GET', '*/*')).body)).toBe(blob);
    const statuses = Object.fromEntries(Object.entries(k8s.origins).map(([role, origin]) => [role, origin.counts().blob]));
    expect(statuses).toEqual({ registry: 1, 'artifact-registry': 2, storage: 1 });
  });

  it('gcr: blobs redirect to signed URLs that refuse Authorization and bad signatures', async () => {
    const gcr = members.gcr;
    const blob = [...corpus.blobs][0] ?? '';
    const client = new SpecClient(gcr);
    await client.get('/v2/corpus/tags/list', 'GET', 'application/json');
    gcr.resetCounts();
    await client.get(`/v2/corpus/blobs/${blob}`, 'GET', '*/*');
    const signed = new URL(gcr.origins.storage?.requests[0]?.url ?? '', gcr.origins.storage?.url);
    expect(signed.searchParams.get('X-Signature')).toMatch(/^[a-f0-9]{64}$/);
    expect((await fetch(signed)).status).toBe(200);
    expect((await fetch(signed, { headers: { authorization: 'Bearer x' } })).status).toBe(400);
    signed.searchParams.set('X-Signature', '00');
    expect((await fetch(signed)).status).toBe(403);
    expect(gcr.leaks()).toBe(1);
  });

  it.each(['harbor', 'acr'] as const)('%s: the Referrers API filters by artifactType and says so', async (name) => {
    const client = new SpecClient(members[name]);
    const entries = async (query: string) => {
      const { response, body } = await client.get(`/v2/corpus/referrers/${corpus.index}${query}`, 'GET', 'application/vnd.oci.image.index.v1+json');
      return {
        status: response.status,
        filters: response.headers.get('oci-filters-applied'),
        manifests: body.length ? (JSON.parse(body.toString()) as { manifests: { digest: string; artifactType: string }[] }).manifests : [],
      };
    };
    expect(await entries('?artifactType=application/spdx%2Bjson')).toEqual({
      status: 200,
      filters: 'artifactType',
      manifests: [expect.objectContaining({ digest: corpus.sbom, artifactType: 'application/spdx+json' })],
    });
    expect(await entries('?artifactType=application/vnd.other')).toMatchObject({ filters: 'artifactType', manifests: [] });
    expect((await client.get(`/v2/corpus/referrers/sha256:${'0'.repeat(64)}`)).response.status).toBe(200);
    expect((await client.get('/v2/corpus/referrers/sha256:NOPE')).response.status).toBe(400);
  });
});
