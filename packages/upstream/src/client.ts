import { createHash } from 'node:crypto';
import { DEFAULT_MAX_MANIFEST_BYTES, normalizeUpstream } from '@cistern/oci';
import type { Dispatcher } from 'undici';
import { Authenticator, OriginAuths, type Credentials } from './auth.ts';
import { drain } from './body.ts';
import { getBlob, headBlob, type BlobDestination, type GetBlobOptions, type UpstreamBlob } from './blobs.ts';
import type { OperationContext } from './context.ts';
import { displayUrl } from './errors.ts';
import { limitsFor, type LimitSettings } from './limits.ts';
import { getManifest, headManifest, type FetchedManifest, type ManifestInfo } from './manifests.ts';
import type { DebugLogger } from './observe-request.ts';
import { listReferrers, type ListReferrersOptions, type Referrers } from './referrers.ts';
import { RequestCore, type RequestHooks, type RequestStats } from './request.ts';
import type { RetrySettings } from './retry.ts';
import { tagPages, type TagListOptions } from './tags.ts';
import { dispatcherFor, type TransportSettings } from './transport.ts';

/** Everything a client needs, as plain data: the sync builds it from a Remote row. */
export interface UpstreamClientOptions extends TransportSettings, RetrySettings, LimitSettings, RequestHooks {
  /** Registry URL; `docker.io` means `registry-1.docker.io`. */
  url: string;
  /** Repository name upstream; on Docker Hub a one-segment name gets `library/`. */
  upstreamName: string;
  username?: string;
  password?: string;
  /** What the limits and auth state are shared by (e.g. the remote's id); default URL and user name. */
  limitKey?: string;
  /** Largest manifest accepted; default 4 MiB. */
  maxManifestBytes?: number;
  /** Largest tag-list or referrers page accepted; default 16 MiB. */
  maxPageBytes?: number;
  /** Most `Link` pages followed; default 10,000. */
  maxPages?: number;
  /** Aborts every request, token fetch and wait of this client (a task's cancel). */
  signal?: AbortSignal;
  /** The remote's name: the `remote` label of the upstream metrics and logs. Default `none` (a client made for no remote). */
  remoteName?: string;
  /** Gets one debug line per request (see observeHop); none without it. */
  logger?: DebugLogger;
}

/** The registry auth states by transport (a dispatcher per TLS and proxy setting), then remote and credentials. */
const authenticators = new WeakMap<Dispatcher, Map<string, Authenticator>>();

/** The client of one upstream repository. Limits, tokens and connection pools are shared per remote. */
export class UpstreamClient {
  readonly registryUrl: string;
  readonly repository: string;
  private readonly core: RequestCore;
  private readonly ctx: OperationContext;

  constructor(private readonly options: UpstreamClientOptions) {
    const normalized = normalizeUpstream(options.url, options.upstreamName);
    const url = new URL(normalized.registryUrl);
    // Credentials in the URL are taken as credentials, never kept in it.
    const username = options.username ?? (url.username ? decodeURIComponent(url.username) : undefined);
    const password = options.password ?? (url.password ? decodeURIComponent(url.password) : undefined);
    url.username = '';
    url.password = '';
    this.registryUrl = url.origin + url.pathname.replace(/\/+$/, '');
    this.repository = normalized.name;
    const key = options.limitKey ?? `${this.registryUrl}\n${username ?? ''}`;
    const dispatcher = dispatcherFor(options);
    const registryAuth = sharedAuthenticator(key, url, username !== undefined ? { username, password: password ?? '' } : undefined, dispatcher);
    const limits = limitsFor(key, options);
    this.core = new RequestCore({
      ...options,
      scope: `repository:${this.repository}:pull`,
      dispatcher,
      limits,
      // Other origins (redirect targets, their token realms) never see this remote's credentials.
      auths: new OriginAuths(url.origin, registryAuth, dispatcher),
      hooks: { onRateLimit: options.onRateLimit, onRequest: options.onRequest },
      source: { remote: options.remoteName ?? 'none', log: options.logger },
    });
    this.ctx = {
      core: this.core,
      limits,
      signal: options.signal,
      base: `${this.registryUrl}/v2/${this.repository}`,
      repository: this.repository,
      maxManifestBytes: options.maxManifestBytes ?? DEFAULT_MAX_MANIFEST_BYTES,
      maxPageBytes: options.maxPageBytes ?? 16 * 1024 * 1024,
      maxPages: options.maxPages ?? 10_000,
      maxRetries: options.maxRetries ?? 4,
      retryBaseMs: options.retryBaseMs,
      retryMaxMs: options.retryMaxMs,
    };
  }

  /**
   * The same client, stopped by `signal` instead (a sync that also stops when
   * one of its steps fails, not only on cancel): limits and the registry's
   * auth state are shared with this one.
   */
  withSignal(signal: AbortSignal): UpstreamClient {
    return new UpstreamClient({ ...this.options, signal });
  }

  /** Requests, retries and token fetches of this client, and the latest `ratelimit-*` reading. */
  requestStats(): RequestStats {
    return { ...this.core.stats };
  }

  /** `GET /v2/` with the repository's pull scope: proves the upstream answers and the credentials work. */
  async ping(): Promise<void> {
    const response = await this.core.send({ method: 'GET', url: new URL(`${this.registryUrl}/v2/`), kind: 'ping' });
    await drain(response.body, displayUrl(response.url));
  }

  /** Tag names page by page, following `Link` only. Names that are not valid tags are skipped. */
  async *tagPages(options?: TagListOptions): AsyncGenerator<string[]> {
    yield* tagPages(this.ctx, options);
  }

  async *tags(options?: TagListOptions): AsyncGenerator<string> {
    for await (const page of this.tagPages(options)) yield* page;
  }

  headManifest(reference: string): Promise<ManifestInfo> {
    return headManifest(this.ctx, reference);
  }

  getManifest(reference: string): Promise<FetchedManifest> {
    return getManifest(this.ctx, reference);
  }

  listReferrers(digest: string, options?: ListReferrersOptions): Promise<Referrers> {
    return listReferrers(this.ctx, digest, options);
  }

  headBlob(digest: string): Promise<UpstreamBlob> {
    return headBlob(this.ctx, digest);
  }

  getBlob(digest: string, sink: BlobDestination, options?: GetBlobOptions): Promise<UpstreamBlob> {
    return getBlob(this.ctx, digest, sink, options);
  }
}

/**
 * The registry's auth state, shared by the clients of one remote that would
 * send the same credentials to the same origin over the same transport: a
 * changed URL, username, password, TLS setting or proxy gets a state of its
 * own (its token realm is fetched through that transport, with those
 * credentials).
 */
function sharedAuthenticator(key: string, registry: URL, credentials: Credentials | undefined, dispatcher: Dispatcher): Authenticator {
  let byKey = authenticators.get(dispatcher);
  if (!byKey) {
    byKey = new Map();
    authenticators.set(dispatcher, byKey);
  }
  const password = credentials ? createHash('sha256').update(credentials.password).digest('hex') : null;
  const authKey = JSON.stringify([key, registry.origin, credentials?.username ?? null, password]);
  let auth = byKey.get(authKey);
  if (!auth) {
    auth = new Authenticator(credentials, dispatcher, registry.protocol === 'https:');
    byKey.set(authKey, auth);
  }
  return auth;
}
