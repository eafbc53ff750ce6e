import { randomBytes } from 'node:crypto';
import { versionManifests, writeRepositoryVersion } from '@cistern/db';
import { cleanupOrphans, type CleanupFigures } from '@cistern/storage-lifecycle';
import { pushImage, sha256, startDistribution, type Distribution, type PushedManifest } from '@cistern/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryHarness } from './harness.ts';

// Orphan cleanup with protection time 0, over and over, while two registries
// pull on-demand blobs of current versions for the first time (fetching and
// caching them) and other content is being orphaned: no pull fails, and
// every blob fetched stays stored.
const h = new RegistryHarness();
let upstream: Distribution;
let urls: string[];
const images: PushedManifest[] = [];

beforeAll(async () => {
  await h.start();
  upstream = await startDistribution();
  for (let i = 0; i < 6; i++) {
    const image = await pushImage(upstream, `lib/pull${i}`, 'v1', { layers: [randomBytes(512 * 1024), randomBytes(512 * 1024)] });
    images.push(image);
    await h.mirror(upstream.url, `lib/pull${i}`, `pull/${i}`, { policy: 'on_demand' });
  }
  urls = [(await h.registry()).url, (await h.registry()).url];
}, 180_000);

afterAll(async () => {
  await upstream?.stop();
  await h.stop();
});

/** A repository of three images whose content is then removed: orphans for the cleanup to find while pulls run. */
async function orphanSome(round: number): Promise<void> {
  const remote = await h.remote({ url: upstream.url, upstreamName: `lib/churn${round}`, policy: 'immediate' });
  await pushImage(upstream, `lib/churn${round}`, 'v1');
  const repository = await h.repository(1);
  await h.sync(remote, repository);
  const manifests = await versionManifests(h.db.prisma, repository.id, 1);
  await writeRepositoryVersion(h.db.prisma, repository.id, { removeManifests: [...manifests] });
}

describe('orphan cleanup beside on-demand pulls', () => {
  it('never fails a pull of a current version, nor removes what a pull cached', { timeout: 120_000 }, async () => {
    const pulls = images.flatMap((image, i) => image.blobs.slice(1).flatMap((blob) => urls.map((url) => ({ url: `${url}/v2/pull/${i}/blobs/${blob}`, blob }))));
    let pulling = true;
    const removed: CleanupFigures[] = [];
    const cleanups = (async () => {
      for (let round = 0; pulling || round < 2; round++) {
        await orphanSome(round);
        removed.push(await cleanupOrphans(h.db.prisma, h.storage, { protectionTimeMinutes: 0, dryRun: false }));
      }
    })();
    const answers = await Promise.all(
      pulls.map(async ({ url, blob }) => {
        const response = await fetch(url);
        return { status: response.status, digest: sha256(Buffer.from(await response.arrayBuffer())), blob };
      }),
    );
    pulling = false;
    await cleanups;
    for (const answer of answers) expect(answer).toEqual({ status: 200, digest: answer.blob, blob: answer.blob });
    expect(removed.reduce((n, figures) => n + figures.manifests, 0)).toBeGreaterThanOrEqual(2);
    for (const { blob } of pulls) {
      const row = await h.db.prisma.blob.findUniqueOrThrow({ where: { digest: blob } });
      expect([row.stored, await h.storage.exists(blob)]).toEqual([true, true]);
    }
  });
});
