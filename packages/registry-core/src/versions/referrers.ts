import { parseManifest, referrerDescriptor, referrersTagFor, type Descriptor } from '@cistern/oci';
import type { ManifestStore } from './manifest-store.ts';
import { byteOrder, knownDigests, memberDigest, type VersionSnapshot } from './version-snapshot.ts';

/**
 * The referrers of `subject` in a version, as image-index entries sorted by
 * digest (a stable order to page through): manifests whose `subject` names
 * it, plus entries of the referrers tag schema's index (`sha256-<hex>`) that
 * the version holds, since a registry serving the API must include those too.
 * A subject known by several digests (sha256 and sha512) has the referrers of each.
 */
export async function buildReferrers(snapshot: VersionSnapshot, subject: string, manifests: ManifestStore): Promise<Descriptor[]> {
  const found = new Map<string, Descriptor>();
  const names = knownDigests(snapshot, subject);
  for (const digest of names.flatMap((name) => snapshot.referrers.get(name) ?? [])) {
    const stored = await manifests.get(digest);
    if (stored) found.set(digest, referrerDescriptor(parseManifest(stored.bytes, { contentType: stored.mediaType })));
  }
  for (const name of names) {
    const tagged = snapshot.tags.get(referrersTagFor(name));
    const fallback = tagged === undefined ? null : await manifests.get(tagged);
    if (!fallback) continue;
    const parsed = parseManifest(fallback.bytes, { contentType: fallback.mediaType });
    for (const entry of parsed.children) {
      // Keyed by canonical digest: a referrer the tag lists by sha512 is the one its subject field found.
      const member = memberDigest(snapshot, entry.digest);
      if (member !== undefined && !found.has(member)) found.set(member, entry);
    }
  }
  return [...found.values()].sort((a, b) => byteOrder(a.digest, b.digest));
}
