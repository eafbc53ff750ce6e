import { createHash } from 'node:crypto';
import type { Database } from '../src/database.ts';
import { saveManifest } from '../src/index.ts';

export const digestOf = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;

/** Saves a small image manifest named `name` (config plus one layer shared by all) and answers its digest. */
export async function manifest(db: Database, name: string, aliases: string[] = []): Promise<string> {
  const raw = Buffer.from(JSON.stringify({ schemaVersion: 2, name }));
  const digest = digestOf(raw.toString());
  await saveManifest(db.prisma, {
    digest,
    aliases,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    artifactType: null,
    classification: 'image',
    raw,
    subjectDigest: null,
    configDigest: digestOf(`config ${name}`),
    blobs: [
      { digest: digestOf(`config ${name}`), size: 10, mediaType: 'application/vnd.oci.image.config.v1+json', role: 'config' },
      { digest: digestOf('shared layer'), size: 100, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', role: 'layer' },
    ],
    children: [],
  });
  return digest;
}
