import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { digestOf, json, makeTempDir, removeDir, startSyntheticUpstream, type SyntheticUpstream } from '@cistern/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryHarness } from './harness.ts';

const run = promisify(execFile);
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const h = new RegistryHarness();
let upstream: SyntheticUpstream;
let base: string;
let dir: string;

/** A linux/amd64 image whose manifest and layer the upstream serves by sha512. */
function sha512Image(repo: string, extra: Record<string, unknown> = {}) {
  const layer = Buffer.from(`a layer named by sha512 ${Math.random()}`);
  const config = json({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [digestOf(layer, 'sha256')] } });
  const bytes = json({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: upstream.addBlob(repo, config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: upstream.addBlob(repo, layer, 'sha512'), size: layer.length }],
    ...extra,
  });
  const digest = upstream.addManifest(repo, bytes, OCI_MANIFEST, [], 'sha512');
  return { bytes, digest, layer, descriptor: { mediaType: OCI_MANIFEST, digest, size: bytes.length } };
}

let child: ReturnType<typeof sha512Image>;
let sbom: ReturnType<typeof sha512Image>;
let indexBytes: Buffer;

beforeAll(async () => {
  await h.start();
  dir = await makeTempDir('sha512-clients');
  upstream = await startSyntheticUpstream({ referrersApi: true });
  child = sha512Image('lib/alg');
  sbom = sha512Image('lib/alg', { artifactType: 'application/spdx+json', subject: child.descriptor });
  indexBytes = json({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ ...child.descriptor, platform: { architecture: 'amd64', os: 'linux' } }] });
  upstream.addManifest('lib/alg', indexBytes, OCI_INDEX, ['v1']);
  await h.mirror(upstream.url, 'lib/alg', 'mirror/alg');
  base = `${(await h.registry()).url}/v2/mirror/alg`;
});

afterAll(async () => {
  await upstream?.stop();
  await h.stop();
  if (dir) await removeDir(dir);
});

async function get(path: string, init: RequestInit = {}) {
  const response = await fetch(`${base}/${path}`, init);
  return { status: response.status, digest: response.headers.get('docker-content-digest'), bytes: Buffer.from(await response.arrayBuffer()) };
}

describe('content named by sha512', () => {
  it('serves a manifest by each of its digests, echoing the one asked for', async () => {
    const sha256 = digestOf(child.bytes, 'sha256');
    expect(await get(`manifests/${child.digest}`)).toEqual({ status: 200, digest: child.digest, bytes: child.bytes });
    expect(await get(`manifests/${sha256}`)).toEqual({ status: 200, digest: sha256, bytes: child.bytes });
    expect(await get(`manifests/${child.digest}`, { method: 'HEAD' })).toEqual({ status: 200, digest: child.digest, bytes: Buffer.alloc(0) });
    expect(await get('manifests/v1')).toEqual({ status: 200, digest: digestOf(indexBytes, 'sha256'), bytes: indexBytes });
    // A client that takes no index gets the index's linux/amd64 entry, under the digest the index lists it by.
    expect(await get('manifests/v1', { headers: { accept: OCI_MANIFEST } })).toEqual({ status: 200, digest: child.digest, bytes: child.bytes });
    expect((await get(`manifests/sha512:${'1'.repeat(128)}`)).status).toBe(404);
  });

  it('serves a layer by its sha512 digest', async () => {
    const layerDigest = digestOf(child.layer, 'sha512');
    expect(await get(`blobs/${layerDigest}`)).toEqual({ status: 200, digest: layerDigest, bytes: child.layer });
  });

  it('lists a referrer whose subject names its manifest by sha512, under either digest of that manifest', async () => {
    const sbomDigest = digestOf(sbom.bytes, 'sha256');
    for (const subject of [child.digest, digestOf(child.bytes, 'sha256')]) {
      const { status, bytes } = await get(`referrers/${subject}`);
      expect(status).toBe(200);
      const listed = (JSON.parse(bytes.toString()) as { manifests: { digest: string; artifactType?: string }[] }).manifests;
      expect([subject, listed.map((m) => [m.digest, m.artifactType])]).toEqual([subject, [[sbomDigest, 'application/spdx+json']]]);
    }
  });

  it('lets skopeo read the image by its sha512 digest', async () => {
    const host = new URL(base).host;
    const env = { ...process.env, HOME: dir, XDG_RUNTIME_DIR: dir };
    const raw = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${host}/mirror/alg@${child.digest}`], { env });
    expect(Buffer.from(raw.stdout)).toEqual(child.bytes);
    // skopeo 1.9 verifies manifests and writes copied blobs in sha256 only: beyond --raw, it reads the image by its sha256.
    const config = await run('skopeo', ['inspect', '--config', '--tls-verify=false', `docker://${host}/mirror/alg@${digestOf(child.bytes, 'sha256')}`], {
      env,
    });
    expect((JSON.parse(config.stdout) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids).toEqual([digestOf(child.layer, 'sha256')]);
  });
});
