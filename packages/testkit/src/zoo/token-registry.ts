import { createBearerRealm, type BearerRealm } from './bearer.ts';
import type { RegistryContent } from './content.ts';
import { startOrigin, type Origin } from './origin.ts';
import { registryHandler, type RegistryBehaviour } from './registry.ts';

export interface TokenRegistryOptions extends Omit<RegistryBehaviour, 'content' | 'guard'> {
  service: string;
  /** Path of the token realm on the registry's own origin, e.g. `/token` (GHCR) or `/oauth2/token` (ACR). */
  realmPath: string;
}

/**
 * A registry that wants a Bearer token on every request, anonymous pulls
 * included, and hands out anonymous tokens at a realm on its own origin
 * (GHCR, GCR, Artifact Registry, Harbor, ACR).
 */
export async function startTokenRegistry(content: RegistryContent, options: TokenRegistryOptions): Promise<{ origin: Origin; realm: BearerRealm }> {
  const { service, realmPath, ...behaviour } = options;
  const resolve = behaviour.resolve ?? ((name: string) => name);
  // The realm's URL names the origin, so both are made once it listens; requests only come after.
  const origin = await startOrigin((req, res, url) => {
    if (url.pathname === realmPath) realm.issue(req, res, url);
    else serve(req, res, url);
  });
  const realm = createBearerRealm({
    realm: `${origin.url}${realmPath}`,
    service,
    grants: (name) => {
      const resolved = resolve(name);
      return resolved !== undefined && content.has(resolved);
    },
  });
  const serve = registryHandler({ ...behaviour, content, guard: realm.guard });
  return { origin, realm };
}
