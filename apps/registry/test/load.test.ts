import { createHash } from 'node:crypto';
import { pushImage, startDistribution, type Distribution, type PushedManifest } from '@cistern/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RegistryHarness } from './harness.ts';

const h = new RegistryHarness();
let upstream: Distribution;
let url: string;
const images: PushedManifest[] = [];

beforeAll(async () => {
  await h.start();
  upstream = await startDistribution();
  for (let i = 0; i < 4; i++) images.push(await pushImage(upstream, 'lib/busy', `v${i}`, { layers: [Buffer.alloc(256 * 1024 + i, i)] }));
  await h.mirror(upstream.url, 'lib/busy', 'busy');
  url = (await h.registry()).url;
}, 120_000);

afterAll(async () => {
  await upstream?.stop();
  await h.stop();
});

/** One client: manifests by tag (GET and HEAD) and every blob of the image, each checked against its digest. */
async function client(n: number, rounds: number): Promise<string[]> {
  const failures: string[] = [];
  for (let round = 0; round < rounds; round++) {
    const image = images[(n + round) % images.length] as PushedManifest;
    const tag = `v${images.indexOf(image)}`;
    const head = await fetch(`${url}/v2/busy/manifests/${tag}`, { method: 'HEAD' });
    if (head.headers.get('docker-content-digest') !== image.digest) failures.push(`HEAD ${tag}: ${head.status}`);
    const manifest = await fetch(`${url}/v2/busy/manifests/${tag}`);
    const bytes = Buffer.from(await manifest.arrayBuffer());
    if (!bytes.equals(image.bytes)) failures.push(`GET ${tag}: ${manifest.status}`);
    for (const digest of image.blobs) {
      const blob = await fetch(`${url}/v2/busy/blobs/${digest}`);
      const hash = `sha256:${createHash('sha256')
        .update(Buffer.from(await blob.arrayBuffer()))
        .digest('hex')}`;
      if (hash !== digest) failures.push(`GET blob ${digest}: ${blob.status}`);
    }
  }
  return failures;
}

it('serves 100 concurrent clients without an error while a sync writes new versions', async () => {
  const repository = await h.db.prisma.repository.findFirstOrThrow({ where: { distributions: { some: { basePath: 'busy' } } } });
  const remote = await h.db.prisma.remote.findFirstOrThrow({ where: { upstreamName: 'lib/busy' } });
  const syncing = (async () => {
    for (let i = 0; i < 3; i++) {
      await pushImage(upstream, 'lib/busy', `new${i}`);
      await h.sync(remote, repository);
    }
  })();
  const failures = (await Promise.all([...Array.from({ length: 100 }, (_, n) => client(n, 5)), syncing.then(() => [])])).flat();
  expect(failures).toEqual([]);
  const latest = await h.db.prisma.repository.findUniqueOrThrow({ where: { id: repository.id } });
  expect(latest.latestVersion).toBe(4);
}, 120_000);
