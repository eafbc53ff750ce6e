import type { RegistryContent } from './content.ts';
import { assembleMember, type ZooMember } from './member.ts';
import { startOrigin } from './origin.ts';
import { parseRoute, sendError } from './registry.ts';
import { startSignedStorage } from './storage.ts';
import { startTokenRegistry } from './token-registry.ts';

/** The Artifact Registry project registry.k8s.io serves from. */
const PROJECT = 'k8s-artifacts-prod';

/**
 * registry.k8s.io: every request is redirected (307) to Artifact Registry on
 * another origin and another path (`/v2/<name>/…` → `/v2/k8s-artifacts-prod/images/<name>/…`).
 * There the target challenges for a Bearer token from its own realm
 * (`/v2/token`), and redirects blob GETs again (302) to signed storage URLs.
 */
export async function startK8s(content: RegistryContent): Promise<ZooMember> {
  const storage = await startSignedStorage(content);
  const prefix = `${PROJECT}/images/`;
  const { origin: artifactRegistry } = await startTokenRegistry(content, {
    service: 'us-docker.pkg.dev',
    realmPath: '/v2/token',
    resolve: (name) => (name.startsWith(prefix) ? name.slice(prefix.length) : undefined),
    blobRedirect: (_name, digest) => ({ status: 302, location: storage.sign(digest) }),
  });
  const registry = await startOrigin((_req, res, url) => {
    const route = parseRoute(url.pathname);
    if (!route) return sendError(res, 404, 'NAME_UNKNOWN');
    const path = route.verb === 'ping' ? '/v2/' : `/v2/${prefix}${route.name}/${route.verb}/${route.reference}`;
    res.writeHead(307, { location: `${artifactRegistry.url}${path}${url.search}` }).end();
  });
  return assembleMember({ name: 'k8s', auth: 'bearer', registry, others: { 'artifact-registry': artifactRegistry }, storage });
}
