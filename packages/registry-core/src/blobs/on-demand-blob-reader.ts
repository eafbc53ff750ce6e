import { PassThrough, pipeline, Transform, type TransformCallback, type Writable } from 'node:stream';
import type { Logger } from '@cistern/config';
import { ContentHolds, touchBlob, type PrismaClient } from '@cistern/db';
import { ingestBlob, StoredMarks } from '@cistern/ingest';
import { coalesce, type HeldLock, type ResourceLocks } from '@cistern/redis-lock';
import {
  found,
  isStorageError,
  StorageError,
  streamContent,
  unknownBlob,
  type BlobContent,
  type BlobInfo,
  type BlobReader,
  type BlobWriter,
  type ByteRange,
} from '@cistern/storage';
import { RegistryError } from '../errors/registry-error.ts';
import { onDemandCoalesced, onDemandFetches, onDemandHits } from './on-demand-metrics.ts';
import type { RemoteBlob, RemoteSource, RemoteSources } from './remote-sources.ts';
import { TeeWritable } from './tee-writable.ts';
import { upstreamFailure } from './upstream-failure.ts';

export interface OnDemandOptions {
  /** The local store: read first, and where fetched blobs are written. */
  local: BlobReader & BlobWriter;
  /** Where a fetched blob's row is marked stored. */
  prisma: PrismaClient;
  remotes: RemoteSources;
  /** Redis locks shared by every registry process: one download per blob across all of them. */
  locks: ResourceLocks;
  logger: Logger;
  /** How often a waiter looks whether the download it waits for has landed (ms). */
  pollMs?: number;
  /** Longest a request waits for another process's download (ms). */
  waitTimeoutMs?: number;
}

/**
 * A decorator over the local store (after Distribution's proxyBlobStore),
 * implementing the same BlobReader: a blob that is only a remote artifact is
 * fetched on first request and streamed to the client as it arrives, while
 * it is ingested into the local store (`on_demand`) or not kept (`streamed`).
 * Rejects as every BlobReader does (BLOB_UNKNOWN, RANGE_INVALID), and with a
 * RegistryError when the remote fails before its first byte or another
 * process's download takes too long.
 *
 * One download per blob across processes: the fetching request holds a Redis
 * lock; others wait until the blob is stored, or take over if the holder's
 * download failed. The download belongs to no client: one that disconnects
 * leaves it running to completion.
 */
export class OnDemandBlobReader implements BlobReader {
  private readonly pollMs: number;
  private readonly waitTimeoutMs: number;

  constructor(private readonly options: OnDemandOptions) {
    this.pollMs = options.pollMs ?? 100;
    this.waitTimeoutMs = options.waitTimeoutMs ?? 300_000;
  }

  /** The local blob, else the size the sync recorded for a remote one; undefined when neither has it. */
  async lookup(digest: string): Promise<BlobInfo | undefined> {
    const stored = await this.options.local.lookup(digest);
    if (stored) return stored;
    const remote = await this.options.remotes.find(digest);
    return remote ? { digest, size: remote.size } : undefined;
  }

  async stat(digest: string): Promise<BlobInfo> {
    return found(await this.lookup(digest), digest);
  }

  async exists(digest: string): Promise<boolean> {
    return (await this.lookup(digest)) !== undefined;
  }

  async open(digest: string, range?: ByteRange): Promise<BlobContent> {
    const { local, remotes } = this.options;
    const stored = await openStored(local, digest, range);
    if (stored) {
      // Counted beside the pull, never in its way.
      void this.countHit(digest);
      return stored;
    }
    const remote = await remotes.find(digest);
    if (!remote) throw unknownBlob(digest);
    if (range && range.start >= remote.size) {
      throw new StorageError('RANGE_INVALID', `range ${range.start}-${range.end ?? ''} is not satisfiable for ${digest} of ${remote.size} bytes`);
    }
    if (remote.sources.every((s) => s.downloadPolicy === 'streamed')) return this.stream(digest, remote, range);
    return this.fetchOnce(digest, remote, range);
  }

  /** `streamed`: nothing is kept, so every request downloads and the client's disconnect may end it. */
  private async stream(digest: string, remote: RemoteBlob, range: ByteRange | undefined): Promise<BlobContent> {
    const client = new PassThrough();
    const abort = new AbortController();
    const started = this.download(digest, remote, { store: false, client, signal: abort.signal });
    started.done.catch(() => undefined);
    await started.first;
    const { offset, length } = window(remote.size, range);
    // pipeline, not pipe: a download failing mid-body must end the sliced stream too.
    const stream = range ? pipeline(client, slice(offset, length), () => undefined) : client;
    stream.once('close', () => {
      client.destroy();
      abort.abort();
    });
    return streamContent(stream, remote.size, offset, length);
  }

  private async fetchOnce(digest: string, remote: RemoteBlob, range: ByteRange | undefined): Promise<BlobContent> {
    const { locks, local } = this.options;
    let waited = false;
    return coalesce(locks, `blob-fetch:${digest}`, {
      // It may have landed between our miss and the lock, or while we waited.
      ready: async () => {
        if (!(await local.exists(digest))) return undefined;
        if (!waited) onDemandHits.inc();
        return local.open(digest, range);
      },
      work: (lock) => this.fetch(digest, remote, range, lock),
      // Once per pull, however often a failed holder makes it try again.
      onWait: () => {
        waited = true;
        onDemandCoalesced.inc();
      },
      pollMs: this.pollMs,
      timeoutMs: this.waitTimeoutMs,
      timedOut: () => new RegistryError('UNAVAILABLE', 'timed out waiting for another request to fetch the blob', { detail: { digest } }),
    });
  }

  /** The holder's download: streamed to this client as it arrives, or (a range) read from storage once stored. */
  private async fetch(digest: string, remote: RemoteBlob, range: ByteRange | undefined, lock: HeldLock): Promise<BlobContent> {
    const { local } = this.options;
    // A range request waits for the whole blob, then reads its part from storage.
    const client = range ? undefined : new PassThrough();
    const started = this.download(digest, remote, { store: true, client });
    const finished = started.done.finally(() => lock.release().catch(() => undefined));
    finished.then(
      () => onDemandFetches.inc({ outcome: 'completed' }),
      (error: unknown) => {
        onDemandFetches.inc({ outcome: 'failed' });
        this.options.logger.warn({ err: error, digest }, 'on-demand fetch failed');
      },
    );
    if (!client) {
      await finished;
      return local.open(digest, range);
    }
    await started.first;
    return streamContent(client, remote.size, 0, remote.size);
  }

  /** A stored blob that an on_demand remote recorded is a cache hit; a failing count never fails the pull. */
  private async countHit(digest: string): Promise<void> {
    const onDemand = await this.options.remotes.recordedOnDemand(digest).catch(() => false);
    if (onDemand) onDemandHits.inc();
  }

  /**
   * Ingests the blob from `source` under a content hold, its row touched first:
   * a cleanup running meanwhile neither deletes the row nor leaves the file
   * without one. A row already deleted means no version needs the blob any more.
   */
  private async ingest(source: RemoteSource, blob: { digest: string; size: number }, through: (stored: Writable) => Writable): Promise<void> {
    const { prisma, local } = this.options;
    await new ContentHolds(prisma).during(`fetch:${blob.digest}`, async () => {
      if (!(await touchBlob(prisma, blob.digest)))
        throw new RegistryError('BLOB_UNKNOWN', 'blob unknown to registry (no version needs it any more)', { detail: { digest: blob.digest } });
      // Marks of its own for each download: a failed mark (a database hiccup) must not fail the next blob's.
      await ingestBlob(source.client, blob, { store: local, marks: new StoredMarks(prisma) }, { through });
    });
  }

  /**
   * Tries each remote in turn until one starts delivering; after the first
   * byte reached the client, a failure ends the response. `first` settles
   * when bytes flow (or with the last failure), `done` when the blob is
   * stored (or nothing of it is left).
   */
  private download(digest: string, remote: RemoteBlob, target: DownloadTarget): { first: Promise<void>; done: Promise<void> } {
    const { store, client, signal } = target;
    let started = false;
    let onFirst: () => void = () => undefined;
    const first = new Promise<void>((resolve) => (onFirst = resolve));
    const onStart = () => {
      started = true;
      onFirst();
    };
    const tee = (stored?: Writable) => new TeeWritable(stored, client, onStart);
    const blob = { digest, size: remote.size };
    const done = (async () => {
      let lastError: unknown = unknownBlob(digest);
      for (const source of remote.sources) {
        try {
          if (store) await this.ingest(source, blob, tee);
          else await source.client.getBlob(digest, tee(), { size: remote.size, signal });
          return;
        } catch (error) {
          // Removed by an orphan cleanup meanwhile: no other remote can change that.
          if (error instanceof RegistryError) throw error;
          lastError = error;
          // Once a byte reached the client, another remote can no longer take over.
          if (started) break;
        }
      }
      throw upstreamFailure(lastError, { blob: digest });
    })();
    return { first: Promise.race([first, done]), done };
  }
}

interface DownloadTarget {
  /** Ingest the blob into the local store (on_demand), or keep nothing (streamed). */
  store: boolean;
  client?: PassThrough | undefined;
  /** Ends the download: only when nothing is kept and its one client left. */
  signal?: AbortSignal;
}

/** The stored blob's content; undefined when it is not (or no longer: a reclaim may drop it after a lookup) in the store. */
async function openStored(local: BlobReader, digest: string, range: ByteRange | undefined): Promise<BlobContent | undefined> {
  try {
    return await local.open(digest, range);
  } catch (error) {
    if (isStorageError(error, 'BLOB_UNKNOWN')) return undefined;
    throw error;
  }
}

function window(size: number, range: ByteRange | undefined): { offset: number; length: number } {
  if (!range) return { offset: 0, length: size };
  const last = Math.min(range.end ?? size - 1, size - 1);
  return { offset: range.start, length: last - range.start + 1 };
}

/** Passes on bytes [offset, offset+length) of what flows through it. */
function slice(offset: number, length: number): Transform {
  let position = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done: TransformCallback) {
      const from = Math.max(0, offset - position);
      const to = Math.min(chunk.length, offset + length - position);
      position += chunk.length;
      done(null, to > from ? chunk.subarray(from, to) : undefined);
    },
  });
}
