import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/database.ts';
import { saveManifest, saveManifests, type IndexEntry, type ManifestRecord } from '../src/index.ts';
import { backends } from './backends.ts';

const digestOf = (bytes: Uint8Array | string) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

function image(name: string, sharedLayerSize = 3_000_000_000): ManifestRecord {
  // Bytes JSON would not carry as text: the raw column must come back identical.
  const raw = Buffer.concat([Buffer.from(JSON.stringify({ schemaVersion: 2, name })), Buffer.from([0, 0xff, 0x80, 0x27])]);
  const config = digestOf(`config ${name}`);
  return {
    digest: digestOf(raw),
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    artifactType: null,
    classification: 'image',
    raw,
    subjectDigest: null,
    configDigest: config,
    blobs: [
      { digest: config, size: 10, mediaType: 'application/vnd.oci.image.config.v1+json', role: 'config' },
      { digest: digestOf('shared'), size: sharedLayerSize, mediaType: "application/vnd.o'dd+gzip", role: 'layer' },
      { digest: digestOf('shared'), size: sharedLayerSize, mediaType: "application/vnd.o'dd+gzip", role: 'layer' },
    ],
    children: [],
  };
}

function indexOf(children: IndexEntry[], subjectDigest: string | null = null): ManifestRecord {
  const raw = Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: children.map((c) => c.digest) }));
  const mediaType = 'application/vnd.oci.image.index.v1+json';
  return { digest: digestOf(raw), mediaType, artifactType: null, classification: 'index', raw, subjectDigest, configDigest: null, blobs: [], children };
}

describe.each(backends)('saveManifest on $name', (backend) => {
  let db: Database;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ db, cleanup } = await backend.open());
  });
  afterAll(() => cleanup());

  it('stores a manifest byte for byte with its blobs and links', async () => {
    const record = image('a');
    await saveManifest(db.prisma, record);

    const stored = await db.prisma.manifest.findUniqueOrThrow({ where: { digest: record.digest } });
    expect(Buffer.from(stored.raw).equals(Buffer.from(record.raw))).toBe(true);
    expect(stored).toMatchObject({
      mediaType: record.mediaType,
      artifactType: null,
      classification: 'image',
      size: BigInt(record.raw.byteLength),
      subjectDigest: null,
      configDigest: record.configDigest,
    });
    const blobs = await db.prisma.blob.findMany({ where: { digest: { in: record.blobs.map((b) => b.digest) } }, orderBy: { size: 'asc' } });
    expect(blobs.map((b) => [b.digest, b.size, b.mediaType, b.stored])).toEqual([
      [record.blobs[0]?.digest, 10n, 'application/vnd.oci.image.config.v1+json', false],
      [digestOf('shared'), 3_000_000_000n, "application/vnd.o'dd+gzip", false],
    ]);
    const links = await db.prisma.manifestBlob.findMany({ where: { manifestDigest: record.digest }, orderBy: { position: 'asc' } });
    expect(links.map((l) => [l.blobDigest, l.role, l.position])).toEqual(record.blobs.map((b, i) => [b.digest, b.role, i]));
  });

  it('stores an index with its children, platform or none', async () => {
    const children = [image('c1'), image('c2')];
    for (const child of children) await saveManifest(db.prisma, child);
    const index = indexOf(
      [
        { digest: children[0]?.digest ?? '', size: 500, mediaType: 'application/vnd.oci.image.manifest.v1+json', platform: 'linux/arm64/v8' },
        { digest: children[1]?.digest ?? '', size: 600, mediaType: 'application/vnd.oci.image.manifest.v1+json', platform: null },
      ],
      children[0]?.digest ?? null,
    );
    await saveManifest(db.prisma, index);

    expect(await db.prisma.manifest.findUniqueOrThrow({ where: { digest: index.digest } })).toMatchObject({
      subjectDigest: children[0]?.digest,
      configDigest: null,
    });
    const rows = await db.prisma.manifestChild.findMany({ where: { indexDigest: index.digest }, orderBy: { position: 'asc' } });
    expect(rows.map((r) => [r.position, r.childDigest, r.size, r.platform])).toEqual([
      [0, children[0]?.digest, 500n, 'linux/arm64/v8'],
      [1, children[1]?.digest, 600n, null],
    ]);
    expect(await db.prisma.manifestBlob.count({ where: { manifestDigest: index.digest } })).toBe(0);
  });

  it('changes nothing when saved again, also by concurrent callers', async () => {
    const record = image('b');
    await Promise.all([saveManifest(db.prisma, record), saveManifest(db.prisma, record), saveManifest(db.prisma, record)]);
    await db.prisma.blob.updateMany({ where: { digest: record.blobs[0]?.digest }, data: { stored: true } });
    await saveManifest(db.prisma, record);

    expect(await db.prisma.manifest.count({ where: { digest: record.digest } })).toBe(1);
    expect(await db.prisma.manifestBlob.count({ where: { manifestDigest: record.digest } })).toBe(3);
    expect(await db.prisma.blob.findUniqueOrThrow({ where: { digest: record.blobs[0]?.digest } })).toMatchObject({ stored: true });
  });

  it('saves many manifests in one call, each with its own links, bytes and children', async () => {
    const images = [image('m1'), image('m2'), image('m3')];
    const index = indexOf(images.slice(0, 2).map((c, i) => ({ digest: c.digest, size: 100 + i, mediaType: c.mediaType, platform: `linux/arch${i}` })));
    // The index before its children, and one image twice: order and repeats within a batch do not matter.
    await saveManifests(db.prisma, [index, ...images, images[0] as ManifestRecord]);

    for (const record of images) {
      const stored = await db.prisma.manifest.findUniqueOrThrow({ where: { digest: record.digest } });
      expect(Buffer.from(stored.raw).equals(Buffer.from(record.raw))).toBe(true);
      const links = await db.prisma.manifestBlob.findMany({ where: { manifestDigest: record.digest }, orderBy: { position: 'asc' } });
      expect(links.map((l) => [l.blobDigest, l.role, l.position])).toEqual(record.blobs.map((b, i) => [b.digest, b.role, i]));
    }
    const rows = await db.prisma.manifestChild.findMany({ where: { indexDigest: index.digest }, orderBy: { position: 'asc' } });
    expect(rows.map((r) => [r.position, r.childDigest, r.platform])).toEqual([
      [0, images[0]?.digest, 'linux/arch0'],
      [1, images[1]?.digest, 'linux/arch1'],
    ]);
    expect(await db.prisma.manifestBlob.count({ where: { manifestDigest: index.digest } })).toBe(0);
  });

  it('lets concurrent batches that share new manifests and blobs, in opposite orders, all complete', async () => {
    const records = Array.from({ length: 20 }, (_, i) => image(`batch-${i}`, 7));
    const reversed = [...records].reverse();
    await Promise.all([saveManifests(db.prisma, records), saveManifests(db.prisma, reversed), saveManifests(db.prisma, records.slice(5, 15))]);
    expect(await db.prisma.manifest.count({ where: { digest: { in: records.map((r) => r.digest) } } })).toBe(20);
    expect(await db.prisma.manifestBlob.count({ where: { manifestDigest: { in: records.map((r) => r.digest) } } })).toBe(60);
  });

  it('does nothing for an empty batch', async () => {
    const before = await db.prisma.manifest.count();
    await saveManifests(db.prisma, []);
    expect(await db.prisma.manifest.count()).toBe(before);
  });
});
