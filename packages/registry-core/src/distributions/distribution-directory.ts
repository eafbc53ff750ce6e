import type { PrismaClient } from '@cistern/db';

/** What the registry serves under a base path: one repository version, or nothing yet, or a remote's repositories (pull-through). */
export interface ServedDistribution {
  id: string;
  /** The distribution's name: a pull-through distribution's cache repositories are named after it. */
  name: string;
  basePath: string;
  private: boolean;
  /** null when the distribution names no repository (it serves an empty version, or is pull-through). */
  content: { repositoryId: string; version: number } | null;
  /** A pull-through distribution's remote and cache settings; null for one that serves a repository. */
  pullThrough: PullThroughSettings | null;
}

export interface PullThroughSettings {
  remoteId: string;
  /** How long a cached tag is served before it is re-checked upstream (seconds). */
  tagTtlSeconds: number;
  /** Also serves names under no base path (dockerd's and containerd's mirror requests). */
  registryMirror: boolean;
}

/**
 * Which distribution serves a repository name, and as what: the name itself,
 * or (pull-through) the upstream repository it stands for, before Docker
 * Hub's `library/` is added.
 */
export interface Route {
  distribution: ServedDistribution;
  /** The name asked for (`/v2/<name>/...`): what tokens grant and links name. */
  name: string;
  /** Pull-through only: the rest of the name below the base path (all of it for the registry mirror). */
  upstreamName: string | null;
}

export interface DistributionDirectoryOptions {
  /**
   * How long a base path's resolution (distribution → repository version) is
   * reused. The only mutable thing on the read path: a sync moves a
   * distribution to a new version, and clients see it after at most this long.
   */
  ttlMs?: number;
}

interface Timed<T> {
  value: T;
  expires: number;
}

/** Distributions by base path, re-read from the database at most once per TTL. */
export class DistributionDirectory {
  private readonly ttlMs: number;
  private readonly byPath = new Map<string, Timed<Promise<ServedDistribution | null>>>();
  private all: Timed<Promise<ServedDistribution[]>> | undefined;

  constructor(
    private readonly prisma: PrismaClient,
    options: DistributionDirectoryOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 1000;
  }

  resolve(basePath: string): Promise<ServedDistribution | null> {
    const now = Date.now();
    const hit = this.byPath.get(basePath);
    if (hit && hit.expires > now) return hit.value;
    const value = this.load(basePath);
    // Unknown names are cached too, but bounded: a scanner must not grow the map forever.
    if (this.byPath.size > 10_000) this.byPath.clear();
    this.byPath.set(basePath, { value, expires: now + this.ttlMs });
    value.catch(() => this.byPath.delete(basePath));
    return value;
  }

  /**
   * The route of a repository name (design.md, "Registry"): the distribution
   * whose base path is the name exactly; else the pull-through distribution
   * with the longest base path that is a path prefix of it; else the registry
   * mirror, for the whole name; else null. A pull-through base path alone
   * names no upstream repository: null.
   */
  async route(name: string): Promise<Route | null> {
    const exact = await this.resolve(name);
    if (exact) return exact.pullThrough ? null : { distribution: exact, name, upstreamName: null };
    let best: ServedDistribution | undefined;
    let mirror: ServedDistribution | undefined;
    for (const d of await this.list()) {
      if (!d.pullThrough) continue;
      if (d.pullThrough.registryMirror) mirror = d;
      if (name.startsWith(`${d.basePath}/`) && (!best || d.basePath.length > best.basePath.length)) best = d;
    }
    if (best) return { distribution: best, name, upstreamName: name.slice(best.basePath.length + 1) };
    return mirror ? { distribution: mirror, name, upstreamName: name } : null;
  }

  /** Every distribution, ordered by base path (the catalog filters what a caller may see). */
  list(): Promise<ServedDistribution[]> {
    const now = Date.now();
    if (this.all && this.all.expires > now) return this.all.value;
    const value = this.loadAll();
    this.all = { value, expires: now + this.ttlMs };
    value.catch(() => (this.all = undefined));
    return value;
  }

  private async load(basePath: string): Promise<ServedDistribution | null> {
    const row = await this.prisma.distribution.findUnique({ where: { basePath }, select: SELECT });
    return row ? served(row) : null;
  }

  private async loadAll(): Promise<ServedDistribution[]> {
    const rows = await this.prisma.distribution.findMany({ select: SELECT, orderBy: { basePath: 'asc' } });
    return rows.map(served);
  }
}

const SELECT = {
  id: true,
  name: true,
  basePath: true,
  private: true,
  remoteId: true,
  tagTtlSeconds: true,
  registryMirror: true,
  repository: { select: { id: true, latestVersion: true } },
  repositoryVersion: { select: { repositoryId: true, number: true } },
} as const;

interface Row {
  id: string;
  name: string;
  basePath: string;
  private: boolean;
  remoteId: string | null;
  tagTtlSeconds: number;
  registryMirror: boolean;
  repository: { id: string; latestVersion: number } | null;
  repositoryVersion: { repositoryId: string; number: number } | null;
}

function served(row: Row): ServedDistribution {
  // A pinned version wins; otherwise the repository's latest.
  const content = row.repositoryVersion
    ? { repositoryId: row.repositoryVersion.repositoryId, version: row.repositoryVersion.number }
    : row.repository
      ? { repositoryId: row.repository.id, version: row.repository.latestVersion }
      : null;
  const pullThrough = row.remoteId === null ? null : { remoteId: row.remoteId, tagTtlSeconds: row.tagTtlSeconds, registryMirror: row.registryMirror };
  return { id: row.id, name: row.name, basePath: row.basePath, private: row.private, content, pullThrough };
}
