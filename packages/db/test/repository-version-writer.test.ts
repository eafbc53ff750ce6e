import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/database.ts';
import { createRepository, versionManifests, versionTags, writeRepositoryVersion, VersionWriteError } from '../src/index.ts';
import { backends } from './backends.ts';
import { digestOf, manifest } from './saved-manifest.ts';

describe.each(backends)('repository-version writer on $name', (backend) => {
  let db: Database;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ db, cleanup } = await backend.open());
  });
  afterAll(() => cleanup());

  const repo = async (retainVersions: number | null = null) =>
    createRepository(db.prisma, { name: `repo-${Math.random().toString(36).slice(2)}`, retainVersions });

  /** Every row a tag name has had in a repository, oldest first. */
  const tagRows = (repositoryId: string, name: string) =>
    db.prisma.repositoryTag.findMany({
      where: { repositoryId, name },
      select: { manifestDigest: true, versionAdded: true, versionRemoved: true },
      orderBy: { versionAdded: 'asc' },
    });

  it('starts a repository at an empty version 0', async () => {
    const r = await repo();
    expect(r.latestVersion).toBe(0);
    expect(await db.prisma.repositoryVersion.findMany({ where: { repositoryId: r.id }, select: { number: true } })).toEqual([{ number: 0 }]);
  });

  it('writes version N+1 from the latest plus changes and keeps earlier versions intact', async () => {
    const r = await repo();
    const [a, b] = [await manifest(db, 'a'), await manifest(db, 'b')];
    const v1 = await writeRepositoryVersion(db.prisma, r.id, {
      addManifests: [a, b],
      addTags: [
        ['latest', a],
        ['old', b],
      ],
    });
    expect(v1?.version.number).toBe(1);
    expect(v1?.added).toEqual({ manifests: 2, tags: 2 });
    expect(await versionManifests(db.prisma, r.id, 0)).toEqual(new Set());
    expect(await versionManifests(db.prisma, r.id, 1)).toEqual(new Set([a, b]));
    expect(await versionTags(db.prisma, r.id, 1)).toEqual(
      new Map([
        ['latest', a],
        ['old', b],
      ]),
    );
    expect((await db.prisma.repository.findUniqueOrThrow({ where: { id: r.id } })).latestVersion).toBe(1);
  });

  it('refuses to write an unchanged version', async () => {
    const r = await repo();
    const a = await manifest(db, 'a');
    await writeRepositoryVersion(db.prisma, r.id, { addManifests: [a], addTags: [['latest', a]] });
    expect(await writeRepositoryVersion(db.prisma, r.id, { addManifests: [a], addTags: [['latest', a]], removeManifests: [] })).toBeNull();
    expect((await db.prisma.repository.findUniqueOrThrow({ where: { id: r.id } })).latestVersion).toBe(1);
  });

  it('names manifests by their sha256 in membership rows, whichever digest they were given by', async () => {
    const r = await repo();
    const [aliasA, aliasB, aliasC] = ['a', 'b', 'c'].map((n) => `sha512:${createHash('sha512').update(n).digest('hex')}`) as [string, string, string];
    const a = await manifest(db, 'aliased a', [aliasA]);
    const b = await manifest(db, 'aliased b', [aliasB]);
    // Saved again under another digest: the manifest gains an alias, its row stays one.
    await manifest(db, 'aliased b', [aliasC]);
    expect(await db.prisma.manifestAlias.findMany({ where: { manifestDigest: b }, select: { digest: true }, orderBy: { digest: 'asc' } })).toEqual(
      [{ digest: aliasB }, { digest: aliasC }].sort((x, y) => (x.digest < y.digest ? -1 : 1)),
    );

    await writeRepositoryVersion(db.prisma, r.id, {
      addManifests: [aliasA, b],
      addTags: [
        ['a', aliasA],
        ['b', aliasC],
      ],
    });
    expect(await versionManifests(db.prisma, r.id, 1)).toEqual(new Set([a, b]));
    expect(await versionTags(db.prisma, r.id, 1)).toEqual(
      new Map([
        ['a', a],
        ['b', b],
      ]),
    );
    expect(await writeRepositoryVersion(db.prisma, r.id, { addManifests: [a, aliasB] })).toBeNull();
    await writeRepositoryVersion(db.prisma, r.id, { removeManifests: [aliasB] });
    expect(await versionManifests(db.prisma, r.id, 2)).toEqual(new Set([a]));
    await expect(writeRepositoryVersion(db.prisma, r.id, { addTags: [['c', `sha512:${'e'.repeat(128)}`]] })).rejects.toMatchObject({
      code: 'TAG_TARGET_MISSING',
    });
  });

  it('moves a tag as one removed and one added', async () => {
    const r = await repo();
    const [a, b] = [await manifest(db, 'a'), await manifest(db, 'b')];
    await writeRepositoryVersion(db.prisma, r.id, { addManifests: [a], addTags: [['latest', a]] });
    const v2 = await writeRepositoryVersion(db.prisma, r.id, { addManifests: [b], addTags: [['latest', b]] });
    expect(v2?.added).toEqual({ manifests: 1, tags: 1 });
    expect(v2?.removed).toEqual({ manifests: 0, tags: 1 });
    expect((await versionTags(db.prisma, r.id, 1)).get('latest')).toBe(a);
    expect((await versionTags(db.prisma, r.id, 2)).get('latest')).toBe(b);
    expect(await versionManifests(db.prisma, r.id, 2)).toEqual(new Set([a, b]));
  });

  it('removes the tags of a removed manifest with it', async () => {
    const r = await repo();
    const [a, b] = [await manifest(db, 'a'), await manifest(db, 'b')];
    await writeRepositoryVersion(db.prisma, r.id, {
      addManifests: [a, b],
      addTags: [
        ['x', a],
        ['y', a],
        ['z', b],
      ],
    });
    const v2 = await writeRepositoryVersion(db.prisma, r.id, { removeManifests: [a] });
    expect(v2?.removed).toEqual({ manifests: 1, tags: 2 });
    expect(await versionTags(db.prisma, r.id, 2)).toEqual(new Map([['z', b]]));
  });

  it('refuses a tag whose manifest is not in the new version, writing nothing', async () => {
    const r = await repo();
    const a = await manifest(db, 'a');
    const error = await writeRepositoryVersion(db.prisma, r.id, { addTags: [['latest', a]] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VersionWriteError);
    expect((error as VersionWriteError).code).toBe('TAG_TARGET_MISSING');
    expect(await db.prisma.repositoryVersion.count({ where: { repositoryId: r.id } })).toBe(1);
  });

  it('applies retention, never pruning version 0 or a pinned version, and drops rows no version sees', async () => {
    const r = await repo(2);
    const digests = [];
    for (let i = 0; i < 5; i++) digests.push(await manifest(db, `m${i}`));
    await writeRepositoryVersion(db.prisma, r.id, { addManifests: [digests[0] as string], addTags: [['t', digests[0] as string]] });
    const v2 = await db.prisma.repositoryVersion.findFirstOrThrow({ where: { repositoryId: r.id, number: 1 } });
    await db.prisma.distribution.create({ data: { name: `pin-${r.id}`, basePath: `pin/${r.name}`, repositoryVersionId: v2.id } });
    for (let i = 1; i < 5; i++) {
      await writeRepositoryVersion(db.prisma, r.id, { addManifests: [digests[i] as string], removeManifests: [digests[i - 1] as string] });
    }
    const numbers = (await db.prisma.repositoryVersion.findMany({ where: { repositoryId: r.id }, orderBy: { number: 'asc' } })).map((v) => v.number);
    expect(numbers).toEqual([0, 1, 4, 5]);
    expect(await versionManifests(db.prisma, r.id, 1)).toEqual(new Set([digests[0]]));
    expect(await versionTags(db.prisma, r.id, 1)).toEqual(new Map([['t', digests[0]]]));
    expect(await versionManifests(db.prisma, r.id, 4)).toEqual(new Set([digests[3]]));
    expect(await versionManifests(db.prisma, r.id, 5)).toEqual(new Set([digests[4]]));
    // m1 lived only in versions 2 and 3, both pruned.
    expect(await db.prisma.repositoryManifest.count({ where: { repositoryId: r.id, manifestDigest: digests[1] } })).toBe(0);
  });

  it('serializes concurrent writers into consecutive versions', async () => {
    const r = await repo();
    const digests = await Promise.all([0, 1, 2, 3, 4].map((i) => manifest(db, `c${i}`)));
    const written = await Promise.all(digests.map((d) => writeRepositoryVersion(db.prisma, r.id, { addManifests: [d] })));
    expect(written.map((w) => w?.version.number).sort()).toEqual([1, 2, 3, 4, 5]);
    expect(await versionManifests(db.prisma, r.id, 5)).toEqual(new Set(digests));
  });

  it('with replaceTags, keeps named tags of the same digest, moves the others and removes the rest', async () => {
    const r = await repo();
    const [a, b] = [await manifest(db, 'a'), await manifest(db, 'b')];
    await writeRepositoryVersion(db.prisma, r.id, {
      addManifests: [a, b],
      addTags: [
        ['keep', a],
        ['move', a],
        ['drop', b],
      ],
    });
    const v2 = await writeRepositoryVersion(db.prisma, r.id, {
      addTags: [
        ['keep', a],
        ['move', b],
      ],
      replaceTags: true,
    });
    expect(v2?.added).toEqual({ manifests: 0, tags: 1 });
    expect(v2?.removed).toEqual({ manifests: 0, tags: 2 });
    expect(await versionTags(db.prisma, r.id, 1)).toEqual(
      new Map([
        ['keep', a],
        ['move', a],
        ['drop', b],
      ]),
    );
    expect(await versionTags(db.prisma, r.id, 2)).toEqual(
      new Map([
        ['keep', a],
        ['move', b],
      ]),
    );
    expect(await versionManifests(db.prisma, r.id, 2)).toEqual(new Set([a, b]));
    // The kept tag is the same row, still open since version 1.
    expect(await tagRows(r.id, 'keep')).toEqual([{ manifestDigest: a, versionAdded: 1, versionRemoved: null }]);
    expect(await tagRows(r.id, 'move')).toEqual([
      { manifestDigest: a, versionAdded: 1, versionRemoved: 2 },
      { manifestDigest: b, versionAdded: 2, versionRemoved: null },
    ]);

    // The same set again, in another order: nothing to write.
    expect(
      await writeRepositoryVersion(db.prisma, r.id, {
        addTags: [
          ['move', b],
          ['keep', a],
        ],
        replaceTags: true,
      }),
    ).toBeNull();
    expect((await db.prisma.repository.findUniqueOrThrow({ where: { id: r.id } })).latestVersion).toBe(2);
    expect(await db.prisma.repositoryTag.count({ where: { repositoryId: r.id } })).toBe(4);
  });

  it('adds a tag both added and removed in one call', async () => {
    const r = await repo();
    const [a, b] = [await manifest(db, 'a'), await manifest(db, 'b')];
    await writeRepositoryVersion(db.prisma, r.id, {
      addManifests: [a, b],
      addTags: [
        ['latest', a],
        ['old', a],
      ],
    });
    const v2 = await writeRepositoryVersion(db.prisma, r.id, {
      addTags: [
        ['latest', b],
        ['new', a],
      ],
      removeTags: ['latest', 'new', 'old'],
    });
    expect(v2?.added).toEqual({ manifests: 0, tags: 2 });
    expect(v2?.removed).toEqual({ manifests: 0, tags: 2 });
    expect(await versionTags(db.prisma, r.id, 2)).toEqual(
      new Map([
        ['latest', b],
        ['new', a],
      ]),
    );
    // Given with the digest it has and removed: it stays, so nothing changes.
    expect(await writeRepositoryVersion(db.prisma, r.id, { addTags: [['latest', b]], removeTags: ['latest'] })).toBeNull();
    expect(await tagRows(r.id, 'latest')).toEqual([
      { manifestDigest: a, versionAdded: 1, versionRemoved: 2 },
      { manifestDigest: b, versionAdded: 2, versionRemoved: null },
    ]);
  });

  it('adds a manifest both added and removed in one call, whichever digest names it', async () => {
    const r = await repo();
    const alias = `sha512:${createHash('sha512').update('both ways').digest('hex')}`;
    const [a, b] = [await manifest(db, 'a'), await manifest(db, 'both ways', [alias])];
    await writeRepositoryVersion(db.prisma, r.id, { addManifests: [a], addTags: [['a', a]] });
    const v2 = await writeRepositoryVersion(db.prisma, r.id, { addManifests: [a, b], removeManifests: [a, alias] });
    expect(v2?.added).toEqual({ manifests: 1, tags: 0 });
    expect(v2?.removed).toEqual({ manifests: 0, tags: 0 });
    expect(await versionManifests(db.prisma, r.id, 2)).toEqual(new Set([a, b]));
    expect(await versionTags(db.prisma, r.id, 2)).toEqual(new Map([['a', a]]));
    expect(await db.prisma.repositoryManifest.findMany({ where: { repositoryId: r.id, manifestDigest: a }, select: { versionRemoved: true } })).toEqual([
      { versionRemoved: null },
    ]);
  });

  it('gives a name repeated in addTags its last digest, within a staging chunk and across chunks', async () => {
    const r = await repo();
    const [a, b, c] = [await manifest(db, 'a'), await manifest(db, 'b'), await manifest(db, 'c')];
    // The writer stages 5000 rows per statement: t1 repeats inside the first chunk, t0 in the second.
    const tags: [string, string][] = Array.from({ length: 4999 }, (_, i) => [`t${i}`, a]);
    tags.push(['t1', c], ['t0', b]);
    const v1 = await writeRepositoryVersion(db.prisma, r.id, { addManifests: [a, b, c], addTags: tags });
    expect(v1?.added).toEqual({ manifests: 3, tags: 4999 });
    const written = await versionTags(db.prisma, r.id, 1);
    expect(written.size).toBe(4999);
    expect([written.get('t0'), written.get('t1'), written.get('t2'), written.get('t4998')]).toEqual([b, c, a, a]);
    expect(await db.prisma.repositoryTag.count({ where: { repositoryId: r.id } })).toBe(4999);
    // Moved away and back within one call: the last digest is the one it has, so nothing changes.
    expect(
      await writeRepositoryVersion(db.prisma, r.id, {
        addTags: [
          ['t2', b],
          ['t2', a],
        ],
      }),
    ).toBeNull();
  });

  it('names the first tag at fault in input order when refusing', async () => {
    const r = await repo();
    const [a, elsewhere] = [await manifest(db, 'a'), await manifest(db, 'not in this repository')];
    const missing = digestOf('never stored');
    // Names sort against input order. The first fault is the last tag of the first 5000-row chunk; ok0, given
    // first, is at fault only by its repeat in the second chunk, since the last digest given is the one that counts.
    const tags: [string, string][] = Array.from({ length: 4999 }, (_, i) => [`ok${i}`, a]);
    tags.push(['z-first', elsewhere], ['a-second', missing], ['ok0', missing]);
    const error = await writeRepositoryVersion(db.prisma, r.id, { addManifests: [a], addTags: tags }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VersionWriteError);
    expect(error).toMatchObject({ code: 'TAG_TARGET_MISSING', message: `tag z-first points at ${elsewhere}, which the new version does not contain` });
    // The same within one chunk: b is at fault only after c.
    const addTags: [string, string][] = [
      ['b', a],
      ['c', elsewhere],
      ['b', missing],
      ['a', missing],
    ];
    const small = await writeRepositoryVersion(db.prisma, r.id, { addManifests: [a], addTags }).catch((e: unknown) => e);
    expect(small).toMatchObject({ code: 'TAG_TARGET_MISSING', message: `tag c points at ${elsewhere}, which the new version does not contain` });
    expect(await db.prisma.repositoryVersion.count({ where: { repositoryId: r.id } })).toBe(1);
    expect(await db.prisma.repositoryTag.count({ where: { repositoryId: r.id } })).toBe(0);
  });

  it('removes the tags of a manifest removed in the same call that changes other tags', async () => {
    const r = await repo();
    const [a, b, c] = [await manifest(db, 'a'), await manifest(db, 'b'), await manifest(db, 'c')];
    await writeRepositoryVersion(db.prisma, r.id, {
      addManifests: [a, b],
      addTags: [
        ['x', a],
        ['y', a],
        ['z', b],
      ],
    });
    // x leaves with a; y leaves a for c, closing once.
    const v2 = await writeRepositoryVersion(db.prisma, r.id, {
      removeManifests: [a],
      addManifests: [c],
      addTags: [
        ['y', c],
        ['w', c],
      ],
    });
    expect(v2?.added).toEqual({ manifests: 1, tags: 2 });
    expect(v2?.removed).toEqual({ manifests: 1, tags: 2 });
    expect(await versionManifests(db.prisma, r.id, 2)).toEqual(new Set([b, c]));
    expect(await versionTags(db.prisma, r.id, 2)).toEqual(
      new Map([
        ['y', c],
        ['z', b],
        ['w', c],
      ]),
    );
    expect(await tagRows(r.id, 'x')).toEqual([{ manifestDigest: a, versionAdded: 1, versionRemoved: 2 }]);
    expect(await tagRows(r.id, 'y')).toEqual([
      { manifestDigest: a, versionAdded: 1, versionRemoved: 2 },
      { manifestDigest: c, versionAdded: 2, versionRemoved: null },
    ]);
  });

  it('stores a manifest once, with its blobs, however often it is saved', async () => {
    const a1 = await manifest(db, 'dedupe');
    const a2 = await manifest(db, 'dedupe');
    expect(a1).toBe(a2);
    expect(await db.prisma.manifest.count({ where: { digest: a1 } })).toBe(1);
    expect(await db.prisma.manifestBlob.count({ where: { manifestDigest: a1 } })).toBe(2);
    const raw = (await db.prisma.manifest.findUniqueOrThrow({ where: { digest: a1 } })).raw;
    expect(digestOf(Buffer.from(raw).toString())).toBe(a1);
  });
});
