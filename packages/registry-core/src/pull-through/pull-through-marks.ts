import { redisCommand } from '@cistern/redis-lock';
import type { Redis } from 'ioredis';
import { isRegistryErrorCode, RegistryError } from '../errors/registry-error.ts';
import { unknownManifest } from '../versions/registry-content.ts';

/** How a cached tag may be served without asking the upstream: confirmed (`fresh`) or after a failed re-check (`stale`). */
export type Freshness = 'fresh' | 'stale';

/**
 * What every registry process shares about pull-through names, in Redis
 * with expiries: per cached tag, until when it is served without a re-check
 * (`<prefix>:pull-through:fresh:<repository id>:<tag>`); per name and
 * reference, the answer of a fetch that failed (an upstream 404, a refusal,
 * an upstream failure) remembered briefly
 * (`<prefix>:pull-through:negative:<distribution id>:<upstream name>:<reference>`).
 * Rejects with REDIS_UNAVAILABLE while Redis is unreachable.
 */
export class PullThroughMarks {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  /** The tag's mark; null when it has none (never checked, or its TTL ran out). */
  async freshness(repositoryId: string, tag: string): Promise<Freshness | null> {
    const value = await this.command(() => this.redis.get(this.freshKey(repositoryId, tag)));
    return value === 'fresh' || value === 'stale' ? value : null;
  }

  /** Marks the tag for `ttlMs` milliseconds. */
  async mark(repositoryId: string, tag: string, freshness: Freshness, ttlMs: number): Promise<void> {
    await this.command(() => this.redis.set(this.freshKey(repositoryId, tag), freshness, 'PX', Math.max(1, ttlMs)));
  }

  /** The remembered answer of a failed fetch of the reference, to give again without asking upstream; null when there is none. */
  async verdict(distributionId: string, upstreamName: string, reference: string): Promise<RegistryError | null> {
    const raw = await this.command(() => this.redis.get(this.negativeKey(distributionId, upstreamName, reference)));
    return raw === null ? null : readVerdict(raw, reference);
  }

  /** Remembers a failed fetch's answer for `ttlSeconds` (0: not at all). */
  async remember(distributionId: string, upstreamName: string, reference: string, error: RegistryError, ttlSeconds: number): Promise<void> {
    if (ttlSeconds <= 0) return;
    const value = JSON.stringify({ code: error.code, message: error.message, detail: error.detail });
    await this.command(() => this.redis.set(this.negativeKey(distributionId, upstreamName, reference), value, 'EX', ttlSeconds));
  }

  private freshKey(repositoryId: string, tag: string): string {
    return `${this.prefix}:pull-through:fresh:${repositoryId}:${tag}`;
  }

  private negativeKey(distributionId: string, upstreamName: string, reference: string): string {
    return `${this.prefix}:pull-through:negative:${distributionId}:${upstreamName}:${reference}`;
  }

  private command<T>(run: () => Promise<T>): Promise<T> {
    return redisCommand(this.redis, 'read or write pull-through marks', run);
  }
}

/**
 * A remembered answer as Redis holds it: `1`, what a process from before
 * remembered answers wrote (still there in a rolling upgrade), is its 404;
 * one that cannot be read is none (the upstream is asked), never a 500.
 */
function readVerdict(raw: string, reference: string): RegistryError | null {
  if (raw === '1') return unknownManifest(reference);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const { code, message, detail } = value as Record<string, unknown>;
  if (typeof code !== 'string' || !isRegistryErrorCode(code) || typeof message !== 'string') return null;
  return new RegistryError(code, message, { detail });
}
