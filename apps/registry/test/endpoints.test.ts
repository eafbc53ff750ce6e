import { pushImage, pushMultiArch, sha256, startDistribution, type Distribution, type PushedManifest } from '@cistern/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryHarness } from './harness.ts';

const h = new RegistryHarness();
let upstream: Distribution;
let url: string;
let image: PushedManifest;
let multi: { index: PushedManifest; images: PushedManifest[] };
let other: PushedManifest;

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

async function errorCode(response: Response): Promise<string | undefined> {
  const body = (await response.json()) as { errors: { code: string }[] };
  return body.errors[0]?.code;
}

beforeAll(async () => {
  await h.start();
  upstream = await startDistribution();
  image = await pushImage(upstream, 'lib/app', 'v1', { layers: [Buffer.alloc(200_000, 7)] });
  multi = await pushMultiArch(upstream, 'lib/app', 'multi');
  await pushImage(upstream, 'lib/app', 'docker', { format: 'docker' });
  other = await pushImage(upstream, 'lib/other', 'v1');
  await h.mirror(upstream.url, 'lib/app', 'org/team/app');
  await h.mirror(upstream.url, 'lib/other', 'other');
  url = (await h.registry()).url;
}, 120_000);

afterAll(async () => {
  await upstream?.stop();
  await h.stop();
});

describe('GET /v2/', () => {
  it('answers 401 with the Bearer challenge naming the token realm under PUBLIC_URL', async () => {
    const response = await fetch(`${url}/v2/`);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe(`Bearer realm="${url}/token",service="${new URL(url).host}"`);
    expect(await errorCode(response)).toBe('UNAUTHORIZED');
  });
});

describe('manifests', () => {
  it('serves the stored bytes by tag and by digest, with digest, type, length and ETag', async () => {
    for (const reference of ['v1', image.digest]) {
      const response = await fetch(`${url}/v2/org/team/app/manifests/${reference}`, { headers: { accept: OCI_MANIFEST } });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe(OCI_MANIFEST);
      expect(response.headers.get('docker-content-digest')).toBe(image.digest);
      expect(response.headers.get('content-length')).toBe(String(image.bytes.length));
      expect(response.headers.get('etag')).toBe(`"${image.digest}"`);
      expect(Buffer.from(await response.arrayBuffer()).equals(image.bytes)).toBe(true);
    }
  });

  it('answers HEAD with the same headers and no body', async () => {
    const response = await fetch(`${url}/v2/org/team/app/manifests/multi`, { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(response.headers.get('docker-content-digest')).toBe(multi.index.digest);
    expect(response.headers.get('content-length')).toBe(String(multi.index.bytes.length));
    expect(await response.text()).toBe('');
  });

  it('negotiates: no Accept or */* gets the stored type; an excluded type is a 404 naming it', async () => {
    const none = await fetch(`${url}/v2/org/team/app/manifests/docker`);
    expect(none.headers.get('content-type')).toBe(DOCKER_MANIFEST);
    const star = await fetch(`${url}/v2/org/team/app/manifests/v1`, { headers: { accept: '*/*' } });
    expect(star.headers.get('docker-content-digest')).toBe(image.digest);
    const excluded = await fetch(`${url}/v2/org/team/app/manifests/v1`, { headers: { accept: DOCKER_MANIFEST } });
    expect(excluded.status).toBe(404);
    const body = (await excluded.json()) as { errors: { code: string; detail: { mediaType: string } }[] };
    expect(body.errors[0]).toMatchObject({ code: 'MANIFEST_UNKNOWN', detail: { mediaType: OCI_MANIFEST } });
  });

  it('serves an index to a client taking either index type, and its linux/amd64 image to one taking no index', async () => {
    const list = await fetch(`${url}/v2/org/team/app/manifests/multi`, { headers: { accept: 'application/vnd.docker.distribution.manifest.list.v2+json' } });
    expect(list.headers.get('docker-content-digest')).toBe(multi.index.digest);
    const amd64 = multi.images.find((i) => i.descriptor.platform?.architecture === 'amd64');
    const single = await fetch(`${url}/v2/org/team/app/manifests/multi`, { headers: { accept: `${OCI_MANIFEST};q=0.9, ${DOCKER_MANIFEST}` } });
    expect(single.status).toBe(200);
    expect(single.headers.get('docker-content-digest')).toBe(amd64?.digest);
  });

  it('does not leak a manifest of another distribution by digest', async () => {
    expect((await fetch(`${url}/v2/other/manifests/${other.digest}`)).status).toBe(200);
    const leak = await fetch(`${url}/v2/org/team/app/manifests/${other.digest}`);
    expect(leak.status).toBe(404);
    expect(await errorCode(leak)).toBe('MANIFEST_UNKNOWN');
  });

  it('refuses malformed references and unknown tags with their codes', async () => {
    const cases: [string, number, string][] = [
      ['sha256:abc', 400, 'DIGEST_INVALID'],
      ['-bad-tag', 400, 'TAG_INVALID'],
      ['nope', 404, 'MANIFEST_UNKNOWN'],
      [sha256(Buffer.from('absent')), 404, 'MANIFEST_UNKNOWN'],
    ];
    for (const [reference, status, code] of cases) {
      const response = await fetch(`${url}/v2/org/team/app/manifests/${reference}`);
      expect([reference, response.status, await errorCode(response)]).toEqual([reference, status, code]);
    }
  });
});

describe('names and methods', () => {
  it('checks the name grammar before any lookup, then knows only base paths', async () => {
    const invalid = await fetch(`${url}/v2/Org/App/tags/list`);
    expect([invalid.status, await errorCode(invalid)]).toEqual([400, 'NAME_INVALID']);
    const unknown = await fetch(`${url}/v2/org/team/tags/list`);
    expect([unknown.status, await errorCode(unknown)]).toEqual([404, 'NAME_UNKNOWN']);
    const upstreamName = await fetch(`${url}/v2/lib/app/tags/list`);
    expect(upstreamName.status).toBe(404);
  });

  it('never answers 5xx to paths, query strings and credentials that do not decode', async () => {
    const undecodable = ['%', '%zz', '%C3%28', '%FF', '%E2%82', '%00', '%2F'];
    const requests = undecodable.flatMap((bad) => [
      `/v2/${bad}/manifests/v1`,
      `/v2/other/manifests/${bad}`,
      `/v2/other/blobs/${bad}`,
      `/v2/other/referrers/${bad}`,
      `/v2/other/referrers/${other.digest}?artifactType=${bad}&artifactType=x`,
      `/v2/other/tags/list?n=${bad}&last=${bad}`,
      `/v2/other/tags/list?n=1&n=${bad}&last[x]=${bad}`,
      `/v2/_catalog?n=${bad}`,
      `/v2/${bad}`,
    ]);
    for (const path of requests) {
      for (const method of ['GET', 'HEAD']) {
        const response = await fetch(`${url}${path}`, { method });
        expect([method, path, response.status < 500]).toEqual([method, path, true]);
        if (method === 'GET' && response.status >= 400) expect(((await response.json()) as { errors: unknown[] }).errors).toHaveLength(1);
      }
    }
    for (const authorization of [
      'Basic %%%',
      `Basic ${Buffer.from([0xff, 0x3a, 0xfe]).toString('base64')}`,
      'Basic',
      'Bearer x.y.z',
      'Bearer eyJhbGciOiJub25lIn0.eyJ9.',
    ]) {
      for (const path of [`/token?scope=repository:other:pull&scope=%zz&service=%`, '/v2/', '/v2/_catalog']) {
        const response = await fetch(`${url}${path}`, { headers: { authorization } });
        expect([authorization, path, response.status < 500]).toEqual([authorization, path, true]);
      }
    }
  });

  it('answers writes with 405 UNSUPPORTED', async () => {
    const requests: [string, string][] = [
      ['PUT', '/v2/other/manifests/v2'],
      ['DELETE', `/v2/other/manifests/${other.digest}`],
      ['POST', '/v2/other/blobs/uploads/'],
      ['PATCH', '/v2/other/blobs/uploads/abc'],
      ['DELETE', `/v2/other/blobs/${other.blobs[0]}`],
    ];
    for (const [method, path] of requests) {
      const response = await fetch(`${url}${path}`, { method });
      expect([method, path, response.status, await errorCode(response)]).toEqual([method, path, 405, 'UNSUPPORTED']);
    }
  });
});

describe('tags', () => {
  it('lists tags in lexical order and pages with n, last and Link', async () => {
    const all = await fetch(`${url}/v2/org/team/app/tags/list`);
    expect(await all.json()).toEqual({ name: 'org/team/app', tags: ['docker', 'multi', 'v1'] });
    expect(all.headers.get('link')).toBeNull();
    const first = await fetch(`${url}/v2/org/team/app/tags/list?n=2`);
    expect(await first.json()).toEqual({ name: 'org/team/app', tags: ['docker', 'multi'] });
    expect(first.headers.get('link')).toBe('</v2/org/team/app/tags/list?n=2&last=multi>; rel="next"');
    const second = await fetch(`${url}/v2/org/team/app/tags/list?n=2&last=multi`);
    expect(await second.json()).toEqual({ name: 'org/team/app', tags: ['v1'] });
    expect(second.headers.get('link')).toBeNull();
    const exact = await fetch(`${url}/v2/org/team/app/tags/list?n=3`);
    expect(exact.headers.get('link')).toBeNull();
    const zero = await fetch(`${url}/v2/org/team/app/tags/list?n=0`);
    expect(await zero.json()).toEqual({ name: 'org/team/app', tags: [] });
    const between = await fetch(`${url}/v2/org/team/app/tags/list?last=dockez`);
    expect(((await between.json()) as { tags: string[] }).tags).toEqual(['multi', 'v1']);
    const past = await fetch(`${url}/v2/org/team/app/tags/list?last=zzz`);
    expect(((await past.json()) as { tags: string[] }).tags).toEqual([]);
    const bad = await fetch(`${url}/v2/org/team/app/tags/list?n=-1`);
    expect([bad.status, await errorCode(bad)]).toEqual([400, 'PAGINATION_NUMBER_INVALID']);
  });

  it('lists the catalog of public distributions with the same paging', async () => {
    expect(await (await fetch(`${url}/v2/_catalog`)).json()).toEqual({ repositories: ['org/team/app', 'other'] });
    const page = await fetch(`${url}/v2/_catalog?n=1`);
    expect(await page.json()).toEqual({ repositories: ['org/team/app'] });
    expect(page.headers.get('link')).toBe('</v2/_catalog?n=1&last=org%2Fteam%2Fapp>; rel="next"');
  });
});

describe('a distribution that moves to a new version', () => {
  it('serves the new version once the sync wrote it, the old one not any more', async () => {
    await pushImage(upstream, 'lib/moving', 'a');
    const { remote, repository } = await h.mirror(upstream.url, 'lib/moving', 'moving');
    expect(((await (await fetch(`${url}/v2/moving/tags/list`)).json()) as { tags: string[] }).tags).toEqual(['a']);
    const b = await pushImage(upstream, 'lib/moving', 'b');
    await h.sync(remote, repository);
    await expect.poll(async () => ((await (await fetch(`${url}/v2/moving/tags/list`)).json()) as { tags: string[] }).tags).toEqual(['a', 'b']);
    expect((await fetch(`${url}/v2/moving/manifests/b`)).headers.get('docker-content-digest')).toBe(b.digest);
  });

  it('keeps serving a pinned version', async () => {
    const repository = await h.db.prisma.repository.findFirstOrThrow({ where: { distributions: { some: { basePath: 'moving' } } } });
    const v1 = await h.db.prisma.repositoryVersion.findFirstOrThrow({ where: { repositoryId: repository.id, number: 1 } });
    await h.db.prisma.distribution.create({ data: { name: 'pinned', basePath: 'pinned', repositoryVersionId: v1.id } });
    expect(((await (await fetch(`${url}/v2/pinned/tags/list`)).json()) as { tags: string[] }).tags).toEqual(['a']);
  });
});
