import type { PrismaClient } from '@cistern/db';
import { Lru } from '../cache/lru.ts';

export interface IndexChild {
  digest: string;
  mediaType: string;
  /** "os/architecture[/variant]" or null. */
  platform: string | null;
}

/** A manifest exactly as stored: serve `bytes` verbatim under `mediaType`. */
export interface StoredManifest {
  digest: string;
  mediaType: string;
  bytes: Buffer;
  /** Index and manifest-list entries, in order; empty for other kinds. */
  children: readonly IndexChild[];
}

/** Manifests by digest, wherever they live (after Distribution's ManifestService, read side). */
export interface ManifestStore {
  /** null when no manifest has this digest. */
  get(digest: string): Promise<StoredManifest | null>;
}

/**
 * Manifests from the database, kept in memory by digest: content is immutable
 * and shared by every repository, so one copy serves all of them.
 */
export class DatabaseManifestStore implements ManifestStore {
  private readonly cache: Lru<string, StoredManifest>;
  private readonly loading = new Map<string, Promise<StoredManifest | null>>();

  constructor(
    private readonly prisma: PrismaClient,
    maxCachedBytes = 64 * 1024 * 1024,
  ) {
    this.cache = new Lru(maxCachedBytes, (m) => m.bytes.length + 256);
  }

  async get(digest: string): Promise<StoredManifest | null> {
    const hit = this.cache.get(digest);
    if (hit) return hit;
    let pending = this.loading.get(digest);
    if (!pending) {
      pending = this.load(digest).finally(() => this.loading.delete(digest));
      this.loading.set(digest, pending);
      // Misses are not kept: a sync may store the manifest a moment later.
      pending.then((found) => found && this.cache.set(digest, found)).catch(() => undefined);
    }
    return pending;
  }

  private async load(digest: string): Promise<StoredManifest | null> {
    const row = await this.prisma.manifest.findUnique({
      where: { digest },
      select: {
        digest: true,
        mediaType: true,
        raw: true,
        children: { select: { childDigest: true, mediaType: true, platform: true }, orderBy: { position: 'asc' } },
      },
    });
    if (!row) return null;
    return {
      digest: row.digest,
      mediaType: row.mediaType,
      bytes: Buffer.from(row.raw),
      children: row.children.map((c) => ({ digest: c.childDigest, mediaType: c.mediaType, platform: c.platform })),
    };
  }
}
