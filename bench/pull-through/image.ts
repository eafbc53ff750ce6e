import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { json, OCI_CONFIG, OCI_MANIFEST, pushBlob, pushManifest, type Distribution } from '@cistern/testkit';

const MiB = 1024 ** 2;
/** Uncompressed: the bytes are random, gzip would only add CPU time to every case alike. */
const LAYER_TYPE = 'application/vnd.oci.image.layer.v1.tar';

async function expectStatus(response: Response, wanted: number, what: string): Promise<void> {
  if (response.status !== wanted) throw new Error(`${what}: HTTP ${response.status} ${await response.text()}`);
  await response.body?.cancel();
}

/**
 * Uploads `size` random bytes as one blob in a single pass (POST, one streamed
 * PATCH hashed on the way, PUT with the digest), so only one 1 MiB chunk is in
 * memory at a time. Returns its digest.
 */
async function pushRandomBlob(upstream: Distribution, repository: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  function* chunks(): Generator<Buffer> {
    for (let sent = 0; sent < size; sent += MiB) {
      const chunk = randomBytes(Math.min(MiB, size - sent));
      hash.update(chunk);
      yield chunk;
    }
  }
  const start = await fetch(`${upstream.url}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
  await expectStatus(start, 202, `start upload to ${repository}`);
  const patch = await fetch(new URL(start.headers.get('location') ?? '', upstream.url), {
    method: 'PATCH',
    headers: { 'content-type': 'application/octet-stream' },
    body: Readable.toWeb(Readable.from(chunks())) as ReadableStream<Uint8Array>,
    duplex: 'half',
  } as RequestInit);
  const done = new URL(patch.headers.get('location') ?? '', upstream.url);
  await expectStatus(patch, 202, `upload ${size} bytes to ${repository}`);
  const digest = `sha256:${hash.digest('hex')}`;
  done.searchParams.set('digest', digest);
  await expectStatus(await fetch(done, { method: 'PUT' }), 201, `commit ${digest} to ${repository}`);
  return digest;
}

/**
 * Pushes an OCI image of `layers` random (incompressible) layers totalling
 * `totalMiB` MiB to `repository:tag`; returns the bytes a pull of it moves
 * (manifest, config and layers).
 */
export async function pushLargeImage(upstream: Distribution, repository: string, tag: string, totalMiB: number, layers: number): Promise<number> {
  const total = totalMiB * MiB;
  const sizes = Array.from({ length: layers }, (_, i) => Math.floor(total / layers) + (i < total % layers ? 1 : 0));
  const descriptors = [];
  for (const size of sizes) descriptors.push({ mediaType: LAYER_TYPE, digest: await pushRandomBlob(upstream, repository, size), size });
  const config = json({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: descriptors.map((d) => d.digest) }, config: {} });
  const configDigest = await pushBlob(upstream, repository, config);
  const manifest = json({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: configDigest, size: config.length },
    layers: descriptors,
  });
  await pushManifest(upstream, repository, tag, manifest, OCI_MANIFEST);
  return total + config.length + manifest.length;
}
