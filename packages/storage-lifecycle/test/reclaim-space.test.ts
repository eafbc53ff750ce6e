import { randomBytes } from 'node:crypto';
import { ContentHolds, touchManifests } from '@cistern/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reclaimSpace } from '../src/index.ts';
import { LifecycleHarness, type UpstreamImage } from './harness.ts';

const h = new LifecycleHarness();

beforeAll(() => h.start(), 60_000);
afterAll(() => h.stop());

/**
 * A repository synced (immediate) at tag v1, then mirrored to tag v2: version
 * 1 holds v1, version 2 only v2. The two share a base layer; v1's own layer is `v1Layer`.
 */
async function movedOn(name: string, v1Layer = randomBytes(8192)) {
  const shared = randomBytes(4096);
  const v1 = h.image(name, 'v1', [shared, v1Layer]);
  const v2 = h.image(name, 'v2', [shared, randomBytes(2048)]);
  const repository = await h.repository();
  await h.sync(repository, await h.remote(name, ['v1']));
  await h.sync(repository, await h.remote(name, ['v2']));
  return { repository, v1, v2 };
}

/** The blobs of `image` only it needs here: its config and own layer (the base is shared). */
const own = (image: UpstreamImage) => [image.blobs[0], image.blobs[2]] as string[];

const sizes = async (digests: string[]) =>
  (await h.db.prisma.blob.findMany({ where: { digest: { in: digests } } })).reduce((n, row) => n + Number(row.size), 0);

describe('reclaim space', () => {
  it('drops the files of blobs only old versions need, keeps their rows (not stored) and what the latest version needs; its result says what', async () => {
    const { repository, v1, v2 } = await movedOn('lib/moved');
    for (const blob of v1.blobs) expect(await h.blobState(blob)).toEqual({ stored: true, file: true });

    const task = await h.reclaim([repository]);
    expect(task.result).toEqual({ repositories: [repository.id], keepVersions: 1, blobs: 2, bytesFreed: await sizes(own(v1)) });
    expect(task.progressReports).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'reclaim.blobs', done: 2, total: 2, state: 'completed' })]));
    for (const blob of own(v1)) expect(await h.blobState(blob)).toEqual({ stored: false, file: false });
    for (const blob of v2.blobs) expect(await h.blobState(blob)).toEqual({ stored: true, file: true });
    expect(await h.manifestKept(v1.digest)).toBe(true);
    // Nothing left to reclaim: a second run drops nothing.
    expect((await h.reclaim([repository])).result).toMatchObject({ blobs: 0, bytesFreed: 0 });
  });

  it('keeps the newest keepVersions versions', async () => {
    const { repository, v1 } = await movedOn('lib/keep-two');
    expect((await h.reclaim([repository], 2)).result).toMatchObject({ keepVersions: 2, blobs: 0 });
    for (const blob of v1.blobs) expect(await h.blobState(blob)).toEqual({ stored: true, file: true });
  });

  it('keeps a blob another repository needs, and a pinned version’s blobs until it is unpinned', async () => {
    const layer = randomBytes(4096);
    const { repository, v1 } = await movedOn('lib/needed', layer);
    const other = h.image('lib/needed-too', 'v1', [layer]);
    const elsewhere = await h.repository();
    await h.sync(elsewhere, await h.remote('lib/needed-too'));
    const pin = await h.pin(repository, 1);

    expect((await h.reclaim([repository])).result).toMatchObject({ blobs: 0 });
    for (const blob of v1.blobs) expect(await h.blobState(blob)).toEqual({ stored: true, file: true });

    await h.db.prisma.distribution.delete({ where: { id: pin.id } });
    expect((await h.reclaim([repository])).result).toMatchObject({ blobs: 1 });
    // v1's config goes; its own layer stays, for the other repository's image holds it too.
    expect(await h.blobState(v1.blobs[0] as string)).toEqual({ stored: false, file: false });
    expect(await h.blobState(other.blobs[1] as string)).toEqual({ stored: true, file: true });
  });

  it('never drops what a writer under a live content hold relies on, nor a blob no remote recorded', async () => {
    const { repository, v1 } = await movedOn('lib/relied');
    const prisma = h.db.prisma;
    // Pushed (one day): no remote artifact, so nothing to fetch it again from.
    await prisma.remoteArtifact.deleteMany({ where: { blobDigest: v1.blobs[0] } });
    const hold = await new ContentHolds(prisma).acquire('test');
    // A sync reusing v1's stored manifest touches the manifest, and relies on the files of its blobs.
    await touchManifests(prisma, [v1.digest], hold);
    expect(await reclaimSpace(prisma, h.storage, { repositoryIds: [repository.id], keepVersions: 1 })).toEqual({ blobs: 0, bytesFreed: 0 });
    await hold.release();
    await h.age(1);
    expect(await reclaimSpace(prisma, h.storage, { repositoryIds: [repository.id], keepVersions: 1 })).toMatchObject({ blobs: 1 });
    expect(await h.blobState(v1.blobs[0] as string)).toEqual({ stored: true, file: true });
    expect(await h.blobState(v1.blobs[2] as string)).toEqual({ stored: false, file: false });
  });

  it('leaves the repositories not listed alone', async () => {
    const moved = await movedOn('lib/unlisted');
    const listed = await movedOn('lib/listed');
    expect((await h.reclaim([listed.repository])).result).toMatchObject({ blobs: 2 });
    for (const blob of moved.v1.blobs) expect(await h.blobState(blob)).toEqual({ stored: true, file: true });
  });
});
