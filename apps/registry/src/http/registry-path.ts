/** What a `/v2/...` path asks for, split as the Distribution API routes it. */
export type RegistryPath =
  | { kind: 'base' }
  | { kind: 'catalog' }
  | { kind: 'manifest'; name: string; reference: string }
  | { kind: 'blob'; name: string; digest: string }
  | { kind: 'upload'; name: string }
  | { kind: 'tags'; name: string }
  | { kind: 'referrers'; name: string; digest: string };

const VERBS = ['/manifests/', '/blobs/', '/tags/list', '/referrers/'] as const;

/**
 * Splits `/v2/<name>/<verb>/<rest>` at the last verb, because a name may
 * itself contain `blobs` or `manifests` segments (`org/manifests/app`). The
 * path is taken undecoded: no valid name, tag or digest holds a `%`.
 */
export function parseRegistryPath(path: string): RegistryPath | null {
  if (path === '/v2/' || path === '/v2') return { kind: 'base' };
  if (path === '/v2/_catalog') return { kind: 'catalog' };
  if (!path.startsWith('/v2/')) return null;
  const rest = path.slice(3);
  let at = -1;
  let verb: (typeof VERBS)[number] | undefined;
  for (const candidate of VERBS) {
    const i = rest.lastIndexOf(candidate);
    if (i > at) {
      at = i;
      verb = candidate;
    }
  }
  if (verb === undefined || at <= 1) return null;
  const name = rest.slice(1, at);
  const tail = rest.slice(at + verb.length);
  switch (verb) {
    case '/manifests/':
      return tail && !tail.includes('/') ? { kind: 'manifest', name, reference: tail } : null;
    case '/blobs/':
      if (tail === 'uploads' || tail.startsWith('uploads/')) return { kind: 'upload', name };
      return tail && !tail.includes('/') ? { kind: 'blob', name, digest: tail } : null;
    case '/tags/list':
      return tail === '' ? { kind: 'tags', name } : null;
    case '/referrers/':
      return tail && !tail.includes('/') ? { kind: 'referrers', name, digest: tail } : null;
  }
}
