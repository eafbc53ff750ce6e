import type { Logger } from '@cistern/config';
import { metricsRegistry } from '@cistern/metrics';
import { parseManifest, referrersTagFor, type Descriptor } from '@cistern/oci';
import { coalesce, redisCommand, ResourceLocks } from '@cistern/redis-lock';
import { isUpstreamError, UpstreamError, type ReferrerDescriptor, type UpstreamClient } from '@cistern/upstream';
import type { Redis } from 'ioredis';
import { Counter } from 'prom-client';
import { RegistryError } from '../errors/registry-error.ts';
import { byteOrder } from '../versions/version-snapshot.ts';

export interface UpstreamListsOptions {
  /** Shared by every registry process: one upstream walk per list per TTL across all of them. */
  redis: Redis;
  /** `<REDIS_PREFIX>:pull-through`; lists live at `<prefix>:tags:<key>` and `<prefix>:referrers:<key>:<subject>`. */
  prefix: string;
  /** Where an upstream failure answered from the cache is logged (warn, once per list per TTL). */
  logger: Logger;
  /** How often a request waiting for another's walk looks whether it has landed (ms); default 50. */
  pollMs?: number;
  /** Most tags an upstream repository may list through the cache; default 100,000, at most 12.8 MB of names (a tag has at most 128 characters). */
  maxTags?: number;
  /** Most referrers of one subject taken from upstream; default 10,000. */
  maxReferrers?: number;
  /**
   * How long the upstream's NAME_UNKNOWN or failure is remembered (ms), as a
   * manifest's 404 is (PULL_THROUGH_NEGATIVE_TTL_SECONDS), when shorter than
   * the list's TTL: a repository that appears upstream is listed as soon as it
   * pulls, and an outage's end is seen soon. Default 30,000.
   */
  negativeTtlMs?: number;
}

/** The walk's lock outlives a crashed holder by at most this; it is renewed while the walk runs (ms). */
const WALK_LOCK_TTL_MS = 30_000;
/** Longest a request waits for other requests' walks of its list (ms). */
const WALK_WAIT_MS = 120_000;

/** What one walk found, kept in Redis for the TTL: the list, the upstream's refusal (the client gets it), or its failure (the cache's list is served). */
type Outcome<T> = { list: T[] } | { refused: { code: 'NAME_UNKNOWN' | 'DENIED'; message: string; detail: unknown } } | { failed: string };

/**
 * An upstream repository's tag list and Referrers API answers, for a
 * pull-through distribution: read upstream at most once per TTL per list,
 * across every registry process (the first request walks under a Redis lock,
 * the others wait for its result), and kept in Redis for the TTL. When the
 * upstream cannot answer (unreachable, timed out, rate-limiting, 5xx, refusing
 * the remote's credentials, answering nonsense) the caller's `fallback`, the
 * cache's own list, is served: counted, logged once, and the failure itself
 * remembered for the TTL (at most `negativeTtlMs`), so an outage costs one
 * upstream attempt per list per that time rather than one per request.
 */
export class UpstreamLists {
  private readonly locks: ResourceLocks;
  private readonly pollMs: number;
  private readonly maxTags: number;
  private readonly maxReferrers: number;
  private readonly negativeTtlMs: number;

  constructor(private readonly options: UpstreamListsOptions) {
    this.locks = new ResourceLocks(options.redis, options.prefix, WALK_LOCK_TTL_MS);
    this.pollMs = options.pollMs ?? 50;
    this.maxTags = options.maxTags ?? 100_000;
    this.maxReferrers = options.maxReferrers ?? 10_000;
    this.negativeTtlMs = options.negativeTtlMs ?? 30_000;
  }

  /**
   * The tags of the client's upstream repository that `keep` accepts (the
   * remote's includes and excludes), in byte order. The whole upstream list
   * is cached under `key` for `ttlMs` (ms), so a filter change applies at
   * once. Rejects with NAME_UNKNOWN when the upstream has no such repository
   * (remembered for `negativeTtlMs` at most: the cache follows the upstream,
   * whose tags stop being served once gone), and DENIED past `maxTags`.
   */
  async tags(key: string, client: UpstreamClient, ttlMs: number, keep: (tag: string) => boolean, fallback: () => Promise<string[]>): Promise<string[]> {
    const tags = await this.cached('tags', `tags:${key}`, ttlMs, () => walkTags(client, this.maxTags), fallback);
    return tags.filter(keep);
  }

  /**
   * The referrers of `subject` upstream, sorted by digest: the Referrers API,
   * or where the upstream has none (404) the referrers tag schema's index
   * (`sha256-<hex>`; none when that tag does not exist). Cached under `key` and
   * the subject for `ttlMs` (ms). DENIED past `maxReferrers`.
   */
  async referrers(key: string, client: UpstreamClient, subject: string, ttlMs: number, fallback: () => Promise<Descriptor[]>): Promise<Descriptor[]> {
    return this.cached('referrers', `referrers:${key}:${subject}`, ttlMs, () => readReferrers(client, subject, this.maxReferrers), fallback);
  }

  /** The list under `name`: from Redis, else walked upstream by one request across processes while the others wait for it. */
  private async cached<T>(list: ListKind, name: string, ttlMs: number, walk: () => Promise<T[]>, fallback: () => Promise<T[]>): Promise<T[]> {
    const { redis, prefix } = this.options;
    const key = `${prefix}:${name}`;
    let result: ListResult = 'hit';
    const outcome =
      (await read<T>(redis, key)) ??
      (await coalesce(this.locks, `list:${name}`, {
        ready: () => read<T>(redis, key),
        work: async (lock) => {
          try {
            const walked = await this.walk(list, name, walk);
            result = 'fetched';
            // An upstream that lacks the repository, or fails, is asked again soon: either may change any moment.
            const brief = 'failed' in walked || ('refused' in walked && walked.refused.code === 'NAME_UNKNOWN');
            const px = Math.max(1, brief ? Math.min(ttlMs, this.negativeTtlMs) : ttlMs);
            await redisCommand(redis, `keep the upstream ${list} list`, () => redis.set(key, JSON.stringify(walked), 'PX', px));
            return walked;
          } finally {
            await lock.release().catch(() => undefined);
          }
        },
        pollMs: this.pollMs,
        timeoutMs: WALK_WAIT_MS,
        timedOut: () => new RegistryError('UNAVAILABLE', `timed out waiting for another request to read the upstream ${list} list`),
      }));
    if ('refused' in outcome) {
      upstreamListRequests.inc({ list, result: 'refused' });
      throw new RegistryError(outcome.refused.code, outcome.refused.message, { detail: outcome.refused.detail });
    }
    if ('failed' in outcome) {
      upstreamListRequests.inc({ list, result: 'fallback' });
      return fallback();
    }
    upstreamListRequests.inc({ list, result });
    return outcome.list;
  }

  /** One upstream walk, its failure kept as an outcome (and logged, once per TTL since the outcome is cached). */
  private async walk<T>(list: ListKind, name: string, walk: () => Promise<T[]>): Promise<Outcome<T>> {
    try {
      return { list: await walk() };
    } catch (error) {
      if (error instanceof RegistryError && (error.code === 'NAME_UNKNOWN' || error.code === 'DENIED')) {
        return { refused: { code: error.code, message: error.message, detail: error.detail } };
      }
      if (!isUpstreamError(error)) throw error;
      this.options.logger.warn(
        { err: error, list: name },
        `upstream ${list} list unavailable (${error.code}): serving the cache's own until it is tried again`,
      );
      return { failed: error.code };
    }
  }
}

type ListKind = 'tags' | 'referrers';
type ListResult = 'hit' | 'fetched' | 'fallback' | 'refused';

/** The outcome kept under `key`; REDIS_UNAVAILABLE (a 503, as for every other Redis read of a pull) while Redis is unreachable. */
async function read<T>(redis: Redis, key: string): Promise<Outcome<T> | undefined> {
  const raw = await redisCommand(redis, 'read an upstream list', () => redis.get(key));
  return raw === null ? undefined : (JSON.parse(raw) as Outcome<T>);
}

/** Every tag upstream, deduplicated and in byte order; stops reading past `max`. */
async function walkTags(client: UpstreamClient, max: number): Promise<string[]> {
  const tags = new Set<string>();
  try {
    for await (const page of client.tagPages()) {
      for (const tag of page) tags.add(tag);
      if (tags.size > max) {
        throw new RegistryError('DENIED', `the upstream repository lists more than ${max} tags, more than a pull-through cache lists`, {
          detail: { limit: max },
        });
      }
    }
  } catch (error) {
    if (isUpstreamError(error, 'NAME_UNKNOWN')) {
      throw new RegistryError('NAME_UNKNOWN', 'repository name not known to registry (the upstream has no such repository)', { cause: error });
    }
    throw error;
  }
  return [...tags].sort(byteOrder);
}

/** The Referrers API's answer, or the tag schema's index where the upstream has no API. */
async function readReferrers(client: UpstreamClient, subject: string, max: number): Promise<Descriptor[]> {
  const answer = await client.listReferrers(subject, { maxEntries: max });
  const found = answer.source === 'api' ? answer.manifests.map(toDescriptor) : await taggedReferrers(client, subject);
  if (found.length > max) throw new RegistryError('DENIED', `the upstream lists more than ${max} referrers of ${subject}`, { detail: { limit: max } });
  return found.sort((a, b) => byteOrder(a.digest, b.digest));
}

/**
 * The entries of the tag schema's index (`sha256-<hex>`); none when the tag
 * does not exist. An answer that is no image index is the upstream's
 * INVALID_RESPONSE, so that the cache's own list is served, as for any
 * upstream failure, instead of a 500 and a walk per request.
 */
async function taggedReferrers(client: UpstreamClient, subject: string): Promise<Descriptor[]> {
  const tag = referrersTagFor(subject);
  let index;
  try {
    index = await client.getManifest(tag);
  } catch (error) {
    if (isUpstreamError(error, 'MANIFEST_UNKNOWN', 'NAME_UNKNOWN')) return [];
    throw error;
  }
  const url = `${client.registryUrl}/v2/${client.repository}/manifests/${tag}`;
  let parsed;
  try {
    parsed = parseManifest(index.bytes, { contentType: index.mediaType });
  } catch (error) {
    throw new UpstreamError('INVALID_RESPONSE', `the referrers tag is not a manifest: ${(error as Error).message}`, { url, cause: error });
  }
  if (parsed.kind !== 'oci-index') throw new UpstreamError('INVALID_RESPONSE', `the referrers tag is a ${parsed.kind}, not an image index`, { url });
  return parsed.children.map(toDescriptor);
}

/** The index-entry fields of a referrer (what the Referrers API lists). */
function toDescriptor(d: Descriptor | ReferrerDescriptor): Descriptor {
  return {
    mediaType: d.mediaType,
    digest: d.digest,
    size: d.size,
    ...(d.artifactType === undefined ? {} : { artifactType: d.artifactType }),
    ...(d.annotations === undefined ? {} : { annotations: { ...d.annotations } }),
  };
}

/** Tag and referrers list requests through pull-through distributions, by where the answer came from. */
const upstreamListRequests = new Counter({
  name: 'cistern_pull_through_list_requests_total',
  help: "Tag and referrers lists served through pull-through distributions, by list and result: hit (the cached upstream list), fetched (walked upstream now), fallback (upstream failing: the cache's own list), refused (NAME_UNKNOWN or past a bound).",
  labelNames: ['list', 'result'] as const,
  registers: [metricsRegistry],
});
for (const list of ['tags', 'referrers'] as const) {
  for (const result of ['hit', 'fetched', 'fallback', 'refused'] as const) upstreamListRequests.inc({ list, result }, 0);
}
