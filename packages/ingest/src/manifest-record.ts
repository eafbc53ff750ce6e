import type { BlobReference, IndexEntry, ManifestRecord } from '@cistern/db';
import { formatPlatform, isManifestMediaType, type Descriptor, type ParsedManifest } from '@cistern/oci';
import type { UpstreamClient } from '@cistern/upstream';

/** Layers that must not be copied (foreign / non-distributable): recorded, never downloaded. */
export function isForeign(descriptor: Pick<Descriptor, 'mediaType' | 'urls'>): boolean {
  return /foreign|nondistributable/.test(descriptor.mediaType) || (descriptor.urls?.length ?? 0) > 0;
}

/** An index entry that is a blob, not a manifest (BuildKit's registry cache). */
export function isBlobEntry(child: Descriptor): boolean {
  return !isManifestMediaType(child.mediaType);
}

/**
 * The database record of a parsed manifest. Schema-1 blobs carry no sizes in
 * the document, so the caller passes the sizes it looked up. `knownAs` is the
 * digest its bytes were verified against; other than its sha256, it becomes an alias.
 */
export function toManifestRecord(parsed: ParsedManifest, schema1Sizes: ReadonlyMap<string, number> = new Map(), knownAs = parsed.digest): ManifestRecord {
  const blobs: BlobReference[] = [];
  if (parsed.config) blobs.push({ digest: parsed.config.digest, size: parsed.config.size, mediaType: parsed.config.mediaType, role: 'config' });
  for (const layer of parsed.layers) blobs.push({ digest: layer.digest, size: layer.size, mediaType: layer.mediaType, role: 'layer' });
  for (const digest of parsed.schema1Blobs) {
    blobs.push({ digest, size: schema1Sizes.get(digest) ?? 0, mediaType: 'application/vnd.docker.container.image.rootfs.diff+x-gtar', role: 'layer' });
  }
  const children: IndexEntry[] = [];
  for (const child of parsed.children) {
    if (isBlobEntry(child)) {
      blobs.push({ digest: child.digest, size: child.size, mediaType: child.mediaType, role: 'layer' });
    } else {
      children.push({ digest: child.digest, size: child.size, mediaType: child.mediaType, platform: child.platform ? formatPlatform(child.platform) : null });
    }
  }
  return {
    digest: parsed.digest,
    aliases: knownAs === parsed.digest ? [] : [knownAs],
    mediaType: parsed.mediaType,
    artifactType: parsed.artifactType ?? null,
    classification: parsed.classification,
    raw: parsed.bytes,
    subjectDigest: parsed.subject?.digest ?? null,
    configDigest: parsed.config?.digest ?? null,
    blobs,
    children,
  };
}

/** A blob one manifest references: `size` is -1 for a schema-1 blob (its document carries none). */
export interface ManifestBlob {
  digest: string;
  size: number;
  role: 'config' | 'layer';
  /** A foreign layer's own URLs (empty for others). */
  urls: string[];
  /** Recorded, never downloaded (see isForeign). */
  foreign: boolean;
}

/** The blobs one manifest references, config first: what a sync brings in and a pull-through cache records. */
export function manifestBlobs(parsed: ParsedManifest): ManifestBlob[] {
  const blobs: ManifestBlob[] = [];
  const add = (d: Pick<Descriptor, 'digest' | 'size' | 'mediaType' | 'urls'>, role: ManifestBlob['role']) =>
    blobs.push({ digest: d.digest, size: d.size, role, urls: d.urls ?? [], foreign: isForeign(d) });
  if (parsed.config) add(parsed.config, 'config');
  for (const layer of parsed.layers) add(layer, 'layer');
  for (const child of parsed.children) if (isBlobEntry(child)) add(child, 'layer');
  for (const digest of parsed.schema1Blobs) add({ digest, size: -1, mediaType: 'schema1' }, 'layer');
  return blobs;
}

/** Schema 1 names blobs without sizes: one upstream HEAD each, for a manifest about to be stored. */
export async function schema1Sizes(client: UpstreamClient, parsed: ParsedManifest): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  for (const digest of parsed.schema1Blobs) sizes.set(digest, (await client.headBlob(digest)).size);
  return sizes;
}
