import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/database.ts';
import { createRepository, versionTags, writeRepositoryVersion } from '../src/index.ts';
import { backends } from './backends.ts';
import { manifest } from './saved-manifest.ts';

describe.each(backends)('repository-version writer at scale on $name', (backend) => {
  let db: Database;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ db, cleanup } = await backend.open());
  });
  afterAll(() => cleanup());

  const repo = async () => createRepository(db.prisma, { name: `repo-${Math.random().toString(36).slice(2)}`, retainVersions: null });

  it('stays exact at 20,000 tags rewritten whole with a tenth moved', { timeout: 120_000 }, async () => {
    const r = await repo();
    const digests: string[] = [];
    for (let i = 0; i < 10; i++) digests.push(await manifest(db, `bulk ${i}`));
    const target = (i: number) => digests[i % digests.length] as string;
    const first = new Map(Array.from({ length: 20_000 }, (_, i) => [`t${i}`, target(i)]));
    const v1 = await writeRepositoryVersion(db.prisma, r.id, { addManifests: digests, addTags: first });
    expect(v1?.added).toEqual({ manifests: 10, tags: 20_000 });

    // A tenth moves to the next manifest, a twentieth is gone, and 1,000 names are new.
    const second = new Map<string, string>();
    for (const [i, name] of [...first.keys()].entries()) {
      if (i % 20 === 5) continue;
      second.set(name, target(i % 10 === 0 ? i + 1 : i));
    }
    for (let i = 0; i < 1000; i++) second.set(`new${i}`, target(i));
    const v2 = await writeRepositoryVersion(db.prisma, r.id, { addTags: second, replaceTags: true });
    expect(v2?.added).toEqual({ manifests: 0, tags: 3000 });
    expect(v2?.removed).toEqual({ manifests: 0, tags: 3000 });
    expect(await versionTags(db.prisma, r.id, 1)).toEqual(first);
    expect(await versionTags(db.prisma, r.id, 2)).toEqual(second);
    expect(await db.prisma.repositoryTag.count({ where: { repositoryId: r.id } })).toBe(23_000);
    expect(await writeRepositoryVersion(db.prisma, r.id, { addTags: second, replaceTags: true })).toBeNull();
  });
});
