import { randomBytes } from 'node:crypto';
import { ContentHolds, saveManifest, touchManifests } from '@cistern/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupOrphans } from '../src/index.ts';
import { LifecycleHarness } from './harness.ts';

const h = new LifecycleHarness();

beforeAll(() => h.start(), 60_000);
afterAll(() => h.stop());

describe('orphan cleanup', () => {
  it('removes what a mirror sync and retention dropped; a dry run counts exactly what the real run then removes', async () => {
    const base = randomBytes(4096);
    const v1 = h.image('lib/drop', 'v1', [base]);
    const v2 = h.image('lib/drop', 'v2', [base, randomBytes(8192)]);
    const repository = await h.repository(1);
    await h.sync(repository, await h.remote('lib/drop'));
    await h.sync(repository, await h.remote('lib/drop', ['v1']));
    // Version 1 (with v2) is pruned by retention: v2's manifest, config and own layer are orphans.
    await h.age(10);

    const dry = await h.cleanup(0, true);
    expect(await h.manifestKept(v2.digest)).toBe(true);
    const real = await h.cleanup(0);
    const [config, , own] = v2.blobs as [string, string, string];
    expect(dry).toEqual({ ...real, dryRun: true });
    expect(real).toMatchObject({ manifests: 1, blobs: 2, bytesFreed: expect.any(Number) });
    expect(await h.manifestKept(v2.digest)).toBe(false);
    expect(await h.blobKept(own)).toEqual({ row: false, file: false });
    expect(await h.blobKept(config)).toEqual({ row: false, file: false });
    // The base layer, which v1 still needs, and v1 itself stay.
    expect(await h.manifestKept(v1.digest)).toBe(true);
    for (const blob of v1.blobs) expect(await h.blobKept(blob)).toEqual({ row: true, file: true });
    expect(await h.cleanup(0)).toMatchObject({ manifests: 0, blobs: 0, bytesFreed: 0 });
  });

  it('keeps orphans touched within the protection time', async () => {
    const image = h.image('lib/young', 'v1');
    const repository = await h.repository(1);
    await h.sync(repository, await h.remote('lib/young'));
    await h.run('remove', { repositoryId: repository.id, digests: [image.digest], tags: [] } as never, `repository:${repository.id}`);
    expect(await h.cleanup(60)).toMatchObject({ manifests: 0, blobs: 0 });
    expect(await h.manifestKept(image.digest)).toBe(true);
    await h.age(61);
    expect(await h.cleanup(60)).toMatchObject({ manifests: 1, blobs: 2 });
    expect(await h.manifestKept(image.digest)).toBe(false);
  });

  it('leaves an untagged manifest that its version still holds; removes it once removed', async () => {
    const image = h.image('lib/untag', 'v1');
    const repository = await h.repository(1);
    await h.sync(repository, await h.remote('lib/untag'));
    await h.run('untag', { repositoryId: repository.id, tags: ['v1'] }, `repository:${repository.id}`);
    await h.age(1);
    await h.cleanup(0);
    expect(await h.manifestKept(image.digest)).toBe(true);
    await h.run('remove', { repositoryId: repository.id, digests: [image.digest], tags: [] } as never, `repository:${repository.id}`);
    await h.age(1);
    await h.cleanup(0);
    expect(await h.manifestKept(image.digest)).toBe(false);
    for (const blob of image.blobs) expect(await h.blobKept(blob)).toEqual({ row: false, file: false });
  });

  it('keeps a blob one repository still needs when another drops it', async () => {
    const shared = randomBytes(4096);
    const first = h.image('lib/share-a', 'v1', [shared]);
    const second = h.image('lib/share-b', 'v1', [shared]);
    const a = await h.repository(1);
    const b = await h.repository(1);
    await h.sync(a, await h.remote('lib/share-a'));
    await h.sync(b, await h.remote('lib/share-b'));
    await h.run('remove', { repositoryId: a.id, digests: [first.digest], tags: [] } as never, `repository:${a.id}`);
    await h.age(1);
    await h.cleanup(0);
    expect(await h.manifestKept(first.digest)).toBe(false);
    expect(await h.manifestKept(second.digest)).toBe(true);
    expect(await h.blobKept(second.blobs[1] as string)).toEqual({ row: true, file: true });
  });

  it('never removes what a live content hold touched, whatever the protection time', async () => {
    const image = h.image('lib/held', 'v1');
    const repository = await h.repository(1);
    await h.sync(repository, await h.remote('lib/held'));
    await h.run('remove', { repositoryId: repository.id, digests: [image.digest], tags: [] } as never, `repository:${repository.id}`);
    await h.age(5);
    const prisma = h.db.prisma;
    const hold = await new ContentHolds(prisma).acquire('test');
    // A writer relies on the orphan manifest again (as a sync reusing it does) and saves a new one.
    expect((await touchManifests(prisma, [image.digest], hold)).map((m) => m.digest)).toEqual([image.digest]);
    const raw = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] }));
    const fresh = {
      digest: `sha256:${'ab'.repeat(32)}`,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      artifactType: null,
      classification: 'index',
      raw,
      subjectDigest: null,
      configDigest: null,
      blobs: [],
      children: [],
    };
    await saveManifest(prisma, fresh);
    expect(await cleanupOrphans(prisma, h.storage, { protectionTimeMinutes: 0, dryRun: false })).toMatchObject({ manifests: 0, blobs: 0 });
    expect(await h.manifestKept(image.digest)).toBe(true);
    for (const blob of image.blobs) expect(await h.blobKept(blob)).toEqual({ row: true, file: true });
    await hold.release();
    expect(await cleanupOrphans(prisma, h.storage, { protectionTimeMinutes: 0, dryRun: false })).toMatchObject({ manifests: 2, blobs: 2 });
  });

  it('tells its holder when its hold lapsed, and never renews a lapsed hold', async () => {
    const prisma = h.db.prisma;
    const hold = await new ContentHolds(prisma, 300).acquire('slow');
    await prisma.$executeRaw`UPDATE "ContentHold" SET "expiresAt" = CURRENT_TIMESTAMP - interval '1 second' WHERE "id" = ${hold.id}::uuid`;
    await expect.poll(() => hold.lost.aborted).toBe(true);
    expect(hold.lost.reason).toMatchObject({ code: 'LOCK_LOST', retryable: true });
    const [row] = await prisma.$queryRaw<
      { live: boolean }[]
    >`SELECT "expiresAt" > CURRENT_TIMESTAMP AS "live" FROM "ContentHold" WHERE "id" = ${hold.id}::uuid`;
    expect(row?.live).toBe(false);
    await hold.release();
  });

  it('a hold whose holder died (no renewal) expires and protects nothing', async () => {
    const prisma = h.db.prisma;
    const hold = await new ContentHolds(prisma, 200).acquire('dies');
    // The holder is gone: its renewals stop (as after a SIGKILL), the row stays.
    await prisma.$executeRaw`UPDATE "ContentHold" SET "expiresAt" = CURRENT_TIMESTAMP - interval '1 second' WHERE "id" = ${hold.id}::uuid`;
    await hold.release();
    const image = h.image('lib/expired', 'v1');
    const repository = await h.repository(1);
    await h.sync(repository, await h.remote('lib/expired'));
    await h.run('remove', { repositoryId: repository.id, digests: [image.digest], tags: [] } as never, `repository:${repository.id}`);
    expect(await cleanupOrphans(prisma, h.storage, { protectionTimeMinutes: 0, dryRun: false })).toMatchObject({ manifests: 1, blobs: 2 });
  });
});
