import { parseRegistryPath, type RegistryPath } from './registry-path.ts';

/** A registry request's route group: the `route` of its log line and metric labels. */
export type RegistryRoute = 'base' | 'manifests' | 'blobs' | 'tags' | 'referrers' | 'catalog' | 'token' | 'uploads' | 'other';

const GROUP: Record<RegistryPath['kind'], RegistryRoute> = {
  base: 'base',
  catalog: 'catalog',
  manifest: 'manifests',
  blob: 'blobs',
  upload: 'uploads',
  tags: 'tags',
  referrers: 'referrers',
};

/** The route group of a request path (without its query), by the same parsing that routes `/v2/` requests; `other` for anything else. */
export function registryRouteOf(path: string): RegistryRoute {
  if (path === '/token') return 'token';
  const parsed = parseRegistryPath(path);
  return parsed ? GROUP[parsed.kind] : 'other';
}
