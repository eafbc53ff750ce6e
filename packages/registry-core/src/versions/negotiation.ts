import { MediaType } from '@cistern/oci';
import { RegistryError } from '../errors/registry-error.ts';
import type { StoredManifest } from './manifest-store.ts';

const INDEX_TYPES: ReadonlySet<string> = new Set([MediaType.OciIndex, MediaType.DockerManifestList]);

/** The media types an Accept header names, without parameters; null when anything goes (absent, empty or a wildcard). */
export function acceptedTypes(accept: string | undefined): ReadonlySet<string> | null {
  if (accept === undefined) return null;
  const types = new Set<string>();
  for (const part of accept.split(',')) {
    const type = part.split(';', 1)[0]?.trim().toLowerCase() ?? '';
    if (type === '*/*' || type === 'application/*') return null;
    if (type) types.add(type);
  }
  return types.size === 0 ? null : types;
}

/** What to do when the client's Accept set excludes the stored type. */
export type Negotiated = { serve: 'stored' } | { serve: 'child'; digest: string };

/**
 * Serve the stored manifest when the client takes its type, or takes any
 * index type and this is an index (an OCI index and a Docker list carry the
 * same information). A client that takes no index type gets the linux/amd64
 * entry of an index when it accepts that entry's type, as Distribution does for
 * pre-manifest-list clients. Otherwise 404, naming the stored type.
 */
export function negotiate(stored: StoredManifest, accepted: ReadonlySet<string> | null, inVersion: (digest: string) => boolean): Negotiated {
  if (accepted === null || accepted.has(stored.mediaType)) return { serve: 'stored' };
  if (INDEX_TYPES.has(stored.mediaType)) {
    if ([...accepted].some((t) => INDEX_TYPES.has(t))) return { serve: 'stored' };
    const child = stored.children.find((c) => c.platform === 'linux/amd64' && accepted.has(c.mediaType) && inVersion(c.digest));
    if (child) return { serve: 'child', digest: child.digest };
  }
  throw new RegistryError('MANIFEST_UNKNOWN', `manifest is ${stored.mediaType}, which the Accept header excludes`, {
    detail: { mediaType: stored.mediaType, accepted: [...accepted] },
  });
}
