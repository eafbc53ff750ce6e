import { MediaTypePolicy, referrersTagFor } from '@cistern/oci';
import { pushImage, pushIndex, startDistribution, type Distribution, type PushedManifest } from '@cistern/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryHarness } from './harness.ts';

const h = new RegistryHarness();
let upstream: Distribution;
let url: string;

const SPDX = 'application/spdx+json';
const SIGNATURE = 'application/vnd.example.signature.v1';

/** An image with an SBOM and a signature, and the tag schema's index of its referrers (Distribution 2.8 has no Referrers API). */
interface Referred {
  image: PushedManifest;
  sbom: PushedManifest;
  signature: PushedManifest;
  /** A referrer that is itself an image: the policy takes it with artifacts off. */
  plain?: PushedManifest;
  index: PushedManifest;
}

let mixed: Referred;
let artifactsOnly: Referred;
const artifactsOff = MediaTypePolicy.parse({ artifacts: false });

async function pushReferred(tag: string, withImageReferrer: boolean): Promise<Referred> {
  const image = await pushImage(upstream, 'lib/app', tag);
  const sbom = await pushImage(upstream, 'lib/app', undefined, { artifactType: SPDX, subject: image.descriptor });
  const signature = await pushImage(upstream, 'lib/app', undefined, { artifactType: SIGNATURE, subject: image.descriptor });
  const plain = withImageReferrer ? await pushImage(upstream, 'lib/app', undefined, { subject: image.descriptor }) : undefined;
  const index = await pushIndex(upstream, 'lib/app', referrersTagFor(image.digest), [
    { ...sbom.descriptor, artifactType: SPDX },
    { ...signature.descriptor, artifactType: SIGNATURE },
    ...(plain ? [plain.descriptor] : []),
  ]);
  return { image, sbom, signature, plain, index };
}

beforeAll(async () => {
  await h.start();
  upstream = await startDistribution();
  mixed = await pushReferred('mixed', true);
  artifactsOnly = await pushReferred('signed', false);
  await h.mirror(upstream.url, 'lib/app', 'strict', { mediaTypes: artifactsOff });
  await h.mirror(upstream.url, 'lib/app', 'open');
  url = (await h.registry()).url;
}, 120_000);

afterAll(async () => {
  await upstream?.stop();
  await h.stop();
});

async function tags(basePath: string): Promise<string[]> {
  return ((await (await fetch(`${url}/v2/${basePath}/tags/list`)).json()) as { tags: string[] }).tags;
}

async function referrers(basePath: string, subject: string): Promise<string[]> {
  const response = await fetch(`${url}/v2/${basePath}/referrers/${subject}`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { manifests: { digest: string }[] }).manifests.map((m) => m.digest);
}

async function manifestStatus(basePath: string, reference: string): Promise<number> {
  return (await fetch(`${url}/v2/${basePath}/manifests/${reference}`, { method: 'HEAD' })).status;
}

describe('artifacts off', () => {
  it('neither lists nor serves a tag-schema index whose referrers were all refused', async () => {
    const tag = referrersTagFor(artifactsOnly.image.digest);
    expect(await tags('strict')).not.toContain(tag);
    expect(await manifestStatus('strict', tag)).toBe(404);
    expect(await manifestStatus('strict', artifactsOnly.index.digest)).toBe(404);
    expect(await referrers('strict', artifactsOnly.image.digest)).toEqual([]);
    for (const refused of [artifactsOnly.sbom, artifactsOnly.signature]) expect(await manifestStatus('strict', refused.digest)).toBe(404);
    expect(await manifestStatus('strict', 'signed')).toBe(200);
  });

  it('keeps a tag-schema index with an accepted referrer, and lists as referrers only what the version holds', async () => {
    const tag = referrersTagFor(mixed.image.digest);
    expect(await tags('strict')).toEqual(['mixed', tag, 'signed'].sort());
    const served = await fetch(`${url}/v2/strict/manifests/${tag}`);
    expect(Buffer.from(await served.arrayBuffer()).equals(mixed.index.bytes)).toBe(true);
    expect(await referrers('strict', mixed.image.digest)).toEqual([mixed.plain?.digest]);
    expect(await manifestStatus('strict', mixed.sbom.digest)).toBe(404);
    expect(await manifestStatus('strict', mixed.signature.digest)).toBe(404);
  });
});

describe('artifacts on', () => {
  it('lists and serves every referrer and both tag-schema indexes', async () => {
    const mixedTag = referrersTagFor(mixed.image.digest);
    const signedTag = referrersTagFor(artifactsOnly.image.digest);
    expect(await tags('open')).toEqual(['mixed', mixedTag, signedTag, 'signed'].sort());
    for (const { image, sbom, signature, plain, index } of [mixed, artifactsOnly]) {
      const all = [sbom, signature, ...(plain ? [plain] : [])];
      expect(await referrers('open', image.digest)).toEqual(all.map((m) => m.digest).sort());
      for (const m of [...all, index]) expect(await manifestStatus('open', m.digest)).toBe(200);
    }
  });
});

describe('artifacts turned off after a sync', () => {
  it('takes the referrers and the index that lists only them out of the next mirror version', async () => {
    const { remote, repository } = await h.mirror(upstream.url, 'lib/app', 'switched');
    expect(await h.sync(remote, repository, true, artifactsOff)).toBe(2);
    await expect.poll(() => tags('switched')).toEqual(['mixed', referrersTagFor(mixed.image.digest), 'signed'].sort());
    expect(await referrers('switched', artifactsOnly.image.digest)).toEqual([]);
    expect(await referrers('switched', mixed.image.digest)).toEqual([mixed.plain?.digest]);
    expect(await manifestStatus('switched', artifactsOnly.index.digest)).toBe(404);
  });
});
