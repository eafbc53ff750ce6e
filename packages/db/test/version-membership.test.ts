import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/database.ts';
import { createRepository, inVersion, inVersionSql, Prisma, pruneMembership } from '../src/index.ts';
import { backends } from './backends.ts';

const digest = `sha256:${'e'.repeat(64)}`;
/** Ranges of every shape: open, closed after one version, closed later, added late. */
const ranges: [number, number | null][] = [
  [0, null],
  [1, 2],
  [1, 4],
  [2, null],
  [3, 5],
  [5, null],
];

describe.each(backends)('version membership on $name', (backend) => {
  let db: Database;
  let cleanup: () => Promise<void>;
  let repositoryId = '';
  beforeAll(async () => {
    ({ db, cleanup } = await backend.open());
    repositoryId = (await createRepository(db.prisma, { name: 'membership' })).id;
    await db.prisma.manifest.create({
      data: { digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', classification: 'image', size: 2n, raw: Buffer.from('{}') },
    });
    await db.prisma.repositoryTag.createMany({
      data: ranges.map(([versionAdded, versionRemoved], i) => ({ repositoryId, name: `t${i}`, manifestDigest: digest, versionAdded, versionRemoved })),
    });
  });
  afterAll(() => cleanup());

  it('selects the same rows through Prisma and through SQL, version by version', async () => {
    for (let n = 0; n <= 6; n++) {
      const byWhere = await db.prisma.repositoryTag.findMany({ where: { repositoryId, ...inVersion(n) }, select: { name: true }, orderBy: { name: 'asc' } });
      const bySql = await db.prisma.$queryRaw<{ name: string }[]>`
        SELECT t.name FROM "RepositoryTag" t WHERE t."repositoryId" = ${repositoryId}::uuid AND ${inVersionSql('t', n)} ORDER BY t.name`;
      const expected = ranges.flatMap(([added, removed], i) => (added <= n && (removed === null || removed > n) ? [`t${i}`] : []));
      expect(
        byWhere.map((r) => r.name),
        `version ${n}`,
      ).toEqual(expected);
      expect(
        bySql.map((r) => r.name),
        `version ${n}`,
      ).toEqual(expected);
    }
  });

  it('refuses an alias that is not a plain identifier', () => {
    expect(() => inVersionSql('t; DROP TABLE x', 1)).toThrow(TypeError);
    expect(inVersionSql('t', Prisma.sql`v.number`).sql).toContain('v.number');
  });

  it('prunes the rows only deleted versions saw, and keeps every row a remaining version sees', async () => {
    await db.prisma.repositoryVersion.createMany({ data: [1, 3, 5].map((number) => ({ repositoryId, number })) });
    // Versions 0, 1, 3 and 5 remain: [1,2) and [1,4) are seen by 1 and [3,5) by 3; nothing is seen by none.
    await pruneMembership(db.prisma, repositoryId);
    expect(await db.prisma.repositoryTag.count({ where: { repositoryId } })).toBe(ranges.length);
    await db.prisma.repositoryVersion.deleteMany({ where: { repositoryId, number: { in: [1, 3] } } });
    await pruneMembership(db.prisma, repositoryId);
    const left = await db.prisma.repositoryTag.findMany({ where: { repositoryId }, select: { name: true }, orderBy: { name: 'asc' } });
    expect(left.map((r) => r.name)).toEqual(['t0', 't3', 't5']);
  });
});
