import type { OutgoingHttpHeaders } from 'node:http';
import { createBearerRealm } from './bearer.ts';
import type { RegistryContent } from './content.ts';
import { assembleMember, type ZooMember } from './member.ts';
import { startOrigin } from './origin.ts';
import { registryHandler, sendError } from './registry.ts';
import { startSignedStorage } from './storage.ts';

export interface DockerHubOptions {
  /** Manifest GETs allowed per window (`ratelimit-limit`). Default 100, the anonymous limit when last read. */
  pullLimit?: number;
  /** The window in seconds (`w=`). Default 21600 (6 h). */
  windowSeconds?: number;
}

/** The pull budget a Docker Hub member counts down; tests may spend it. */
export interface PullBudget {
  limit: number;
  remaining: number;
  windowSeconds: number;
}

export interface DockerHub extends ZooMember {
  readonly budget: PullBudget;
}

/** Content name of a Docker Hub repository: official images live under `library/`, and a bare name means nothing. */
function officialName(name: string): string | undefined {
  if (!name.includes('/')) return undefined;
  return name.startsWith('library/') ? name.slice('library/'.length) : name;
}

/**
 * Docker Hub: a token realm on another origin (auth.docker.io), one-segment
 * names only as `library/<name>` (a bare name gets 401 insufficient_scope),
 * `ratelimit-limit` / `ratelimit-remaining` on manifest responses where only
 * GETs spend the budget, 429 with `Retry-After` once it is spent, and blob
 * GETs redirected (307) to a signed CDN URL.
 */
export async function startDockerHub(content: RegistryContent, options: DockerHubOptions = {}): Promise<DockerHub> {
  const windowSeconds = options.windowSeconds ?? 21_600;
  const budget: PullBudget = { limit: options.pullLimit ?? 100, remaining: options.pullLimit ?? 100, windowSeconds };
  const rateHeaders = (): OutgoingHttpHeaders => ({
    'ratelimit-limit': `${budget.limit};w=${budget.windowSeconds}`,
    'ratelimit-remaining': `${budget.remaining};w=${budget.windowSeconds}`,
    'docker-ratelimit-source': '127.0.0.1',
  });
  const grants = (name: string): boolean => {
    const resolved = officialName(name);
    return resolved !== undefined && content.has(resolved);
  };
  const auth = await startOrigin((req, res, url) => {
    if (url.pathname === '/token') realm.issue(req, res, url);
    else sendError(res, 404, 'NOT_FOUND');
  }, 'token');
  const realm = createBearerRealm({ realm: `${auth.url}/token`, service: 'registry.docker.io', grants });
  const cdn = await startSignedStorage(content);
  const registry = await startOrigin(
    registryHandler({
      content,
      resolve: officialName,
      guard: realm.guard,
      before(req, res, route) {
        if (route.verb !== 'manifests' || req.method !== 'GET') return false;
        if (budget.remaining > 0) {
          budget.remaining -= 1;
          return false;
        }
        sendError(res, 429, 'TOOMANYREQUESTS', { ...rateHeaders(), 'retry-after': String(budget.windowSeconds) });
        return true;
      },
      manifestHeaders: rateHeaders,
      blobRedirect: (_name, digest) => ({ status: 307, location: cdn.sign(digest) }),
    }),
  );
  const member = assembleMember({
    name: 'docker-hub',
    auth: 'bearer',
    registry,
    others: { auth },
    storage: cdn,
    repositoryFor: (name) => (name.includes('/') ? name : `library/${name}`),
  });
  return { ...member, budget };
}
