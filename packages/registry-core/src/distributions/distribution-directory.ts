import type { PrismaClient } from '@cistern/db';

/** What the registry serves under a base path: one repository version, or nothing yet. */
export interface ServedDistribution {
  id: string;
  basePath: string;
  private: boolean;
  /** null when the distribution names no repository (it serves an empty version). */
  content: { repositoryId: string; version: number } | null;
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
  basePath: true,
  private: true,
  repository: { select: { id: true, latestVersion: true } },
  repositoryVersion: { select: { repositoryId: true, number: true } },
} as const;

interface Row {
  id: string;
  basePath: string;
  private: boolean;
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
  return { id: row.id, basePath: row.basePath, private: row.private, content };
}
