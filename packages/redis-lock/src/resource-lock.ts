import type { Redis } from 'ioredis';
import { redisCommand } from './redis-connected.ts';

// Compare-and-act scripts: only the holder may renew or release.
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const ACQUIRE = `local v = redis.call('get', KEYS[1])
if v == false or v == ARGV[1] then redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0`;

/** A lock held on one resource until released, or lost. */
export interface HeldLock {
  /** Aborted if the lock was lost (expired and taken, or Redis gone too long). */
  readonly lost: AbortSignal;
  release(): Promise<void>;
}

/**
 * One holder per resource at a time across every process on one Redis (a
 * task on a repository, a registry's on-demand download of a blob), held
 * with a TTL renewed while the work runs, so a crashed holder's lock expires
 * on its own. Re-entrant for the same holder: a stalled job picked up again
 * by another worker keeps its lock. Keys are `<prefix>:lock:<resource>`;
 * `ttlMs` is in milliseconds, renewed every third of it. On a connection
 * that queues commands while Redis is away, acquire and holder wait for it;
 * on a fail-fast one (no offline queue) they reject at once.
 */
export class ResourceLocks {
  /** The renewal of each lock held now, by this instance. */
  private readonly renewals = new Set<() => void>();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlMs: number,
  ) {
    // A reconnect may mean Redis restarted empty: check every lock at once, not at its next renewal.
    redis.on('ready', () => {
      for (const renew of this.renewals) renew();
    });
  }

  private key(resource: string): string {
    return `${this.prefix}:lock:${resource}`;
  }

  /** The lock, or null when another holder has it. Rejects only when Redis does: REDIS_UNAVAILABLE when it is unreachable. */
  async acquire(resource: string, holder: string): Promise<HeldLock | null> {
    const key = this.key(resource);
    const ok = await redisCommand(this.redis, `lock ${resource}`, () => this.redis.eval(ACQUIRE, 1, key, holder, this.ttlMs));
    if (ok !== 1) return null;
    const lost = new AbortController();
    let renewedAt = Date.now();
    const renew = () => {
      this.redis
        .eval(RENEW, 1, key, holder, this.ttlMs)
        .then((renewed) => {
          if (renewed === 1) renewedAt = Date.now();
          else lost.abort(new Error(`lock on ${resource} was lost`));
        })
        .catch(() => {
          // Unreachable Redis: once the TTL has run out the key may be gone, so another worker may hold it.
          if (Date.now() - renewedAt >= this.ttlMs) lost.abort(new Error(`lock on ${resource} could not be renewed for ${this.ttlMs} ms`));
        });
    };
    const timer = setInterval(renew, Math.max(100, Math.floor(this.ttlMs / 3)));
    timer.unref();
    this.renewals.add(renew);
    return {
      lost: lost.signal,
      release: async () => {
        clearInterval(timer);
        this.renewals.delete(renew);
        await this.redis.eval(RELEASE, 1, key, holder);
      },
    };
  }

  /** Who holds the lock now; null when nobody does. REDIS_UNAVAILABLE while Redis is unreachable. */
  async holder(resource: string): Promise<string | null> {
    return redisCommand(this.redis, `lock ${resource}`, () => this.redis.get(this.key(resource)));
  }
}
