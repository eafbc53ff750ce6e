import { parseManifest, referrerDescriptor, referrersTagFor, type Descriptor } from '@cistern/oci';
import type { ManifestStore } from './manifest-store.ts';
import { byteOrder, type VersionSnapshot } from './version-snapshot.ts';

/**
 * The referrers of `subject` in a version, as image-index entries sorted by
 * digest (a stable order to page through): manifests whose `subject` names
 * it, plus entries of the referrers tag schema's index (`sha256-<hex>`) that
 * the version holds, since a registry serving the API must include those too.
 */
export async function buildReferrers(snapshot: VersionSnapshot, subject: string, manifests: ManifestStore): Promise<Descriptor[]> {
  const found = new Map<string, Descriptor>();
  for (const digest of snapshot.referrers.get(subject) ?? []) {
    const stored = await manifests.get(digest);
    if (stored) found.set(digest, referrerDescriptor(parseManifest(stored.bytes, { contentType: stored.mediaType })));
  }
  const tagged = snapshot.tags.get(referrersTagFor(subject));
  const fallback = tagged === undefined ? null : await manifests.get(tagged);
  if (fallback) {
    const parsed = parseManifest(fallback.bytes, { contentType: fallback.mediaType });
    for (const entry of parsed.children) {
      if (!found.has(entry.digest) && snapshot.manifests.has(entry.digest)) found.set(entry.digest, entry);
    }
  }
  return [...found.values()].sort((a, b) => byteOrder(a.digest, b.digest));
}
