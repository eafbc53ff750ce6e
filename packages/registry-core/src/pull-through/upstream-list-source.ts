import type { Descriptor } from '@cistern/oci';
import type { UpstreamClient } from '@cistern/upstream';

/**
 * Where a pull-through name's tag list and referrers come from: the upstream
 * (through `client`), kept `ttlMs` milliseconds under `key` for every
 * process, with `fallback` (the cache's own list) when the upstream cannot
 * answer. `keep` selects the tags the remote's filters let through.
 * `UpstreamLists` (./upstream-lists.ts) is the upstream one.
 */
export interface UpstreamListSource {
  tags(key: string, client: UpstreamClient, ttlMs: number, keep: (tag: string) => boolean, fallback: () => Promise<string[]>): Promise<string[]>;
  referrers(key: string, client: UpstreamClient, subject: string, ttlMs: number, fallback: () => Promise<Descriptor[]>): Promise<Descriptor[]>;
}

/** The cache's own lists only, never the upstream's: what a pull-through name lists where no upstream lists are wired. */
export const CACHED_LISTS_ONLY: UpstreamListSource = {
  tags: (_key, _client, _ttlMs, _keep, fallback) => fallback(),
  referrers: (_key, _client, _subject, _ttlMs, fallback) => fallback(),
};
