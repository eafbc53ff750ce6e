import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addCorpus,
  RegistryContent,
  sha256,
  startQuay,
  ZOO,
  type Corpus,
  type ZooMember,
  type ZooMemberName,
} from '../src/index.ts';

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
      const listed = JSON.parse((await run('skopeo', ['list-tags', '--tls-verify=false', ...(creds ? ['--creds', creds] : []), image], { env })).stdout) as { Tags: string[] };
      expect(listed.Tags.sort()).toEqual(Object.keys(corpus.tags).sort());
      const raw = (await run('skopeo', ['inspect', '--raw', '--tls-verify=false', ...(creds ? ['--creds', creds] : []), `${image}:multi`], { env, encoding: 'buffer' })).stdout;
      expect(sha256(raw)).toBe(corpus.index);
      await run('skopeo', ['copy', '--all', '--quiet', '--src-tls-verify=false', ...(creds ? ['--src-creds', creds] : []), `${image}:multi`, `dir:${join(dir, 'copy')}`], { env });
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
