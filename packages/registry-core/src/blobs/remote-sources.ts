import type { PrismaClient, Remote, SyncPolicy } from '@cistern/db';
import { clientForRemote, type DebugLogger, type UpstreamClient, type UpstreamClientOptions } from '@cistern/upstream';
import { Lru } from '../cache/lru.ts';

/** A remote that recorded a blob, and the client to fetch it with. */
export interface RemoteSource {
  remoteId: string;
  /** `streamed` keeps nothing of what is fetched; the others store it. */
  downloadPolicy: SyncPolicy;
  client: UpstreamClient;
}

/** A blob the sync recorded as a remote artifact: its size in bytes, and where to fetch it. */
export interface RemoteBlob {
  size: number;
  /** The remotes that recorded the blob, oldest record first: the sync's own choice leads. */
  sources: RemoteSource[];
}

/** Client settings the caller may override (tests shorten retries). */
export type ClientOverrides = Partial<Pick<UpstreamClientOptions, 'maxRetries' | 'retryBaseMs' | 'retryMaxMs'>>;

/** How RemoteSources fetches and what it remembers. */
export interface RemoteSourcesOptions {
  /** Where each upstream request is logged at debug (the registry's logger; a pino logger fits). */
  logger?: DebugLogger;
  clientOverrides?: ClientOverrides;
  /** How long "no on_demand remote recorded this blob" is believed (ms); default 60 s. */
  notOnDemandMs?: number;
}

/** A sync may record a stored blob for an on_demand remote at any time: a "no" is asked again after this. */
const NOT_ON_DEMAND_MS = 60_000;

/** A digest's answer to recordedOnDemand, shared by the pulls that ask while it is read; `until` bounds a "no". */
interface OnDemandAnswer {
  answer: Promise<boolean>;
  until: number;
}

/**
 * Where a blob that is not in storage can be fetched from: the RemoteArtifact
 * rows the sync wrote. Foreign layers (with `urls`) are never downloaded.
 */
export class RemoteSources {
  private readonly clients = new Lru<string, UpstreamClient>(256);
  private readonly onDemand = new Lru<string, OnDemandAnswer>(16_384);

  constructor(
    private readonly prisma: PrismaClient,
    private readonly secretKey: Buffer,
    private readonly options: RemoteSourcesOptions = {},
  ) {}

  /** The remotes to fetch `digest` from and its size in bytes; null when no remote recorded it. */
  async find(digest: string): Promise<RemoteBlob | null> {
    const blob = await this.prisma.blob.findUnique({
      where: { digest },
      select: {
        size: true,
        remoteArtifacts: { where: { urls: { isEmpty: true } }, include: { remote: true }, orderBy: { createdAt: 'asc' } },
      },
    });
    if (!blob || blob.remoteArtifacts.length === 0) return null;
    return {
      size: Number(blob.size),
      sources: blob.remoteArtifacts.map((a) => ({
        remoteId: a.remoteId,
        downloadPolicy: a.remote.policy,
        client: this.clientFor(a.remote, a.upstreamName),
      })),
    };
  }

  /**
   * Whether an `on_demand` remote recorded `digest` (so a pull of it from
   * storage is an on-demand cache hit). One query per digest: pulls that ask
   * while it runs share it, a "yes" is kept (a stored blob pulled again costs
   * nothing), a "no" for 60 s only (a sync of an on_demand remote may record
   * the blob later), a failed query not at all.
   */
  recordedOnDemand(digest: string): Promise<boolean> {
    const known = this.onDemand.get(digest);
    if (known && known.until > Date.now()) return known.answer;
    const entry: OnDemandAnswer = { answer: this.readOnDemand(digest), until: Infinity };
    this.onDemand.set(digest, entry);
    entry.answer.then(
      (yes) => {
        if (!yes) entry.until = Date.now() + (this.options.notOnDemandMs ?? NOT_ON_DEMAND_MS);
      },
      () => {
        // Only this failed query's entry: a later one may have replaced it.
        if (this.onDemand.get(digest) === entry) this.onDemand.delete(digest);
      },
    );
    return entry.answer;
  }

  private async readOnDemand(digest: string): Promise<boolean> {
    const artifact = await this.prisma.remoteArtifact.findFirst({
      // A layer: an on_demand sync downloads configs itself, so only layers are left for pulls to bring in.
      where: { blobDigest: digest, urls: { isEmpty: true }, remote: { policy: 'on_demand' }, blob: { manifests: { some: { role: 'layer' } } } },
      select: { id: true },
    });
    return artifact !== null;
  }

  /**
   * The client of `upstreamName` at `remote`: one per remote and upstream
   * name, kept while used; a remote edited since gets a new one. Throws when
   * the remote's sealed password does not open with the secret key.
   */
  clientFor(remote: Remote, upstreamName: string): UpstreamClient {
    const key = `${remote.id}\n${upstreamName}\n${remote.updatedAt.getTime()}`;
    let client = this.clients.get(key);
    if (!client) {
      // The sync's factory too: same settings, and download limits shared with the sync of this remote.
      client = clientForRemote({ ...remote, upstreamName }, this.secretKey, { ...this.options.clientOverrides, logger: this.options.logger });
      this.clients.set(key, client);
    }
    return client;
  }
}
