import type { PrismaClient, Remote } from '@cistern/db';
import { normalizeUpstream } from '@cistern/oci';
import type { UpstreamClient } from '@cistern/upstream';
import type { RemoteSources } from '../blobs/remote-sources.ts';
import type { Route, ServedDistribution } from '../distributions/distribution-directory.ts';
import { RegistryError } from '../errors/registry-error.ts';
import { upstreamRules, type UpstreamRules } from './upstream-rules.ts';

/** One pull's view of its pull-through name: the distribution, its remote and rules, and the upstream repository. */
export interface PullContext {
  distribution: ServedDistribution;
  /** The tag TTL (ms). */
  ttlMs: number;
  remote: Remote;
  rules: UpstreamRules;
  /** As the upstream knows it (`library/alpine`). */
  upstreamName: string;
  client: UpstreamClient;
}

interface KnownRemote {
  remote: Remote | null;
  rules: UpstreamRules | null;
}

/** Remotes read at a time, at most: a scanner naming many distributions must not grow the map forever. */
const MAX_REMOTES = 1000;

/**
 * What a pull-through route pulls from: its remote (re-read at most once per
 * `remoteTtlMs`, default 1 s, so an edit applies to pulls within it), the
 * remote's rules, the upstream name (Docker Hub's `library/` added) and its
 * client. Rejects with NAME_UNKNOWN for a route that is not pull-through or
 * whose remote is gone, NAME_INVALID for a name the upstream cannot hold, and
 * DENIED for a repository the remote does not serve.
 */
export class PullContexts {
  private readonly known = new Map<string, { value: Promise<KnownRemote>; expires: number }>();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly remotes: RemoteSources,
    private readonly remoteTtlMs = 1000,
  ) {}

  async of(route: Route): Promise<PullContext> {
    const { distribution } = route;
    const settings = distribution.pullThrough;
    const { remote, rules } = settings ? await this.remote(settings.remoteId) : { remote: null, rules: null };
    if (!settings || route.upstreamName === null || !remote || !rules) {
      throw new RegistryError('NAME_UNKNOWN', 'repository name not known to registry', { detail: { name: route.name } });
    }
    let upstreamName: string;
    try {
      upstreamName = normalizeUpstream(remote.url, route.upstreamName).name;
    } catch (error) {
      throw new RegistryError('NAME_INVALID', 'invalid repository name', { detail: { name: route.name }, cause: error });
    }
    rules.assertRepository(upstreamName, route.upstreamName);
    const client = this.remotes.clientFor(remote, upstreamName);
    return { distribution, ttlMs: settings.tagTtlSeconds * 1000, remote, rules, upstreamName, client };
  }

  private remote(remoteId: string): Promise<KnownRemote> {
    const now = Date.now();
    const hit = this.known.get(remoteId);
    if (hit && hit.expires > now) return hit.value;
    const value = this.prisma.remote.findUnique({ where: { id: remoteId } }).then((remote) => ({ remote, rules: remote ? upstreamRules(remote) : null }));
    if (this.known.size > MAX_REMOTES) this.known.clear();
    this.known.set(remoteId, { value, expires: now + this.remoteTtlMs });
    value.catch(() => this.known.delete(remoteId));
    return value;
  }
}
