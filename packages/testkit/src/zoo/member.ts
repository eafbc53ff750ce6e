import { countRequests, emptyCounts, type LoggedRequest, type Origin, type RequestCounts } from './origin.ts';
import type { SignedStorage } from './storage.ts';

/** One registry of the zoo, as a client configures it, with what its origins received. */
export interface ZooMember {
  /** e.g. `docker-hub`, `k8s` */
  readonly name: string;
  /** The registry URL a client is given. */
  readonly url: string;
  readonly host: string;
  /** How it wants clients to authenticate: not at all, Basic, or Bearer tokens from a realm. */
  readonly auth: 'none' | 'basic' | 'bearer';
  /** Credentials a client must configure (ECR); anonymous pulls work everywhere else. */
  readonly credentials?: { username: string; password: string };
  /** Whether manifest HEAD and GET carry `Docker-Content-Digest`. */
  readonly sendsDigests: boolean;
  /** Whether it serves the Referrers API (otherwise the `sha256-<hex>` tag schema). */
  readonly referrersApi: boolean;
  /** Every origin it runs, by role (`registry`, `auth`, `storage`, ...). */
  readonly origins: Readonly<Record<string, Origin>>;
  /** The repository name a client asks for to get content stored as `name` (Docker Hub adds `library/`). */
  repositoryFor(name: string): string;
  /** Requests received by all its origins since the last `resetCounts`, by kind. */
  counts(): RequestCounts;
  /** Every request its origins received since the last `resetCounts` (a redirected one at each origin it passed). */
  requests(): LoggedRequest[];
  /** Requests that reached a storage origin with an Authorization header. */
  leaks(): number;
  resetCounts(): void;
  stop(): Promise<void>;
}

export interface MemberParts {
  name: string;
  auth: ZooMember['auth'];
  /** The origin clients are pointed at. */
  registry: Origin;
  /** Other origins: token realms, redirect targets. */
  others?: Record<string, Origin>;
  storage?: SignedStorage;
  credentials?: { username: string; password: string };
  sendsDigests?: boolean;
  referrersApi?: boolean;
  repositoryFor?: (name: string) => string;
}

/** Assembles a member from its origins: counting, leak checks and stopping are the same for all. */
export function assembleMember(parts: MemberParts): ZooMember {
  const origins: Record<string, Origin> = { registry: parts.registry, ...parts.others, ...(parts.storage ? { storage: parts.storage.origin } : {}) };
  const all = Object.values(origins);
  return {
    name: parts.name,
    auth: parts.auth,
    url: parts.registry.url,
    host: parts.registry.host,
    ...(parts.credentials ? { credentials: parts.credentials } : {}),
    sendsDigests: parts.sendsDigests ?? true,
    referrersApi: parts.referrersApi ?? false,
    origins,
    repositoryFor: parts.repositoryFor ?? ((name) => name),
    counts: () => all.reduce((counts, origin) => countRequests(origin.requests, counts), emptyCounts()),
    requests: () => all.flatMap((origin) => origin.requests),
    leaks: () => parts.storage?.leaks() ?? 0,
    resetCounts() {
      for (const origin of all) origin.requests.length = 0;
    },
    async stop() {
      await Promise.all(all.map((origin) => origin.stop()));
    },
  };
}
