import { Prisma, type PrismaClient } from '@cistern/db';
import { isCisternError } from '@cistern/errors';
import { normalizeUpstream } from '@cistern/oci';

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
  /** The remote's registry as `host[:port]` (Docker Hub's aliases as `registry-1.docker.io`): what containerd's `ns` must name to reach the registry mirror. */
  upstreamHost: string;
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
   *
   * `ns` is containerd's `?ns=<registry host>` on a mirror request: the
   * registry the client meant. It matters only for the registry-mirror
   * fallback, which serves one upstream registry: an `ns` naming another
   * (a hosts.toml that sends ghcr.io here too) gets null rather than a
   * same-named image of the wrong registry. Under a base path the operator's
   * prefix already says which registry, and `ns` is not looked at.
   */
  async route(name: string, ns?: string): Promise<Route | null> {
    const exact = await this.resolve(name);
    if (exact) return exact.pullThrough ? null : { distribution: exact, name, upstreamName: null };
    const all = await this.list();
    const best = longestPrefix(all, name);
    if (best) return { distribution: best, name, upstreamName: name.slice(best.basePath.length + 1) };
    const mirror = all.find((d) => d.pullThrough?.registryMirror);
    if (!mirror || (ns !== undefined && registryHost(ns) !== mirror.pullThrough?.upstreamHost)) return null;
    return { distribution: mirror, name, upstreamName: name };
  }

  /**
   * Upstream names of a pull-through distribution's cache repositories in
   * byte order, those after `after` only, at most `limit` (the catalog pages
   * through them); with `among`, only names in it.
   */
  async cachedNames(distributionId: string, page: { after: string; limit: number; among?: readonly string[] }): Promise<string[]> {
    const among = page.among ? Prisma.sql`AND "upstreamName" = ANY(${[...page.among]}::text[])` : Prisma.empty;
    // PostgreSQL text holds no NUL (a client's `last` may): the smallest byte, so cut there the same names follow.
    const after = page.after.split('\0', 1)[0] as string;
    // COLLATE "C": byte order whatever the database's collation, as the catalog pages by it.
    const rows = await this.prisma.$queryRaw<{ upstreamName: string }[]>`
      SELECT "upstreamName" FROM "Repository"
       WHERE "pullThroughId" = ${distributionId}::uuid AND "upstreamName" COLLATE "C" > ${after} ${among}
       ORDER BY "upstreamName" COLLATE "C" LIMIT ${page.limit}`;
    return rows.map((r) => r.upstreamName);
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

/** The pull-through distribution with the longest base path that is a path prefix of `name`, if any. */
export function longestPrefix(distributions: readonly ServedDistribution[], name: string): ServedDistribution | undefined {
  let best: ServedDistribution | undefined;
  for (const d of distributions) {
    if (d.pullThrough && name.startsWith(`${d.basePath}/`) && (!best || d.basePath.length > best.basePath.length)) best = d;
  }
  return best;
}

const SELECT = {
  id: true,
  name: true,
  basePath: true,
  private: true,
  tagTtlSeconds: true,
  registryMirror: true,
  remote: { select: { id: true, url: true } },
  repository: { select: { id: true, latestVersion: true } },
  repositoryVersion: { select: { repositoryId: true, number: true } },
} as const;

interface Row {
  id: string;
  name: string;
  basePath: string;
  private: boolean;
  tagTtlSeconds: number;
  registryMirror: boolean;
  remote: { id: string; url: string } | null;
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
  const pullThrough =
    row.remote === null
      ? null
      : { remoteId: row.remote.id, tagTtlSeconds: row.tagTtlSeconds, registryMirror: row.registryMirror, upstreamHost: registryHost(row.remote.url) ?? '' };
  return { id: row.id, name: row.name, basePath: row.basePath, private: row.private, content, pullThrough };
}

/** The `host[:port]` a registry URL or a bare host (`docker.io`, containerd's `ns`) names, Docker Hub's aliases as one; null for neither. */
function registryHost(value: string): string | null {
  try {
    return new URL(normalizeUpstream(value, 'x').registryUrl).host;
  } catch (error) {
    if (isCisternError(error, 'URL_INVALID')) return null;
    throw error;
  }
}
