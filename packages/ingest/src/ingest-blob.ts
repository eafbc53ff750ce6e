import type { Writable } from 'node:stream';
import type { BlobWriter } from '@cistern/storage';
import type { UpstreamClient } from '@cistern/upstream';
import type { StoredMarks } from './stored-marks.ts';

/** The blob to bring in: its digest, and the size in bytes its descriptor promises. */
export interface IngestedBlob {
  readonly digest: string;
  readonly size: number;
}

/** Where an ingested blob goes. */
export interface IngestTarget {
  /** Keeps the bytes once they verify. */
  readonly store: BlobWriter;
  /** Marks the Blob row stored once the bytes are durably in the store. */
  readonly marks: StoredMarks;
}

export interface IngestOptions {
  /** Ends the download; the store then keeps nothing of it. */
  signal?: AbortSignal | undefined;
  /**
   * Puts a stream between the download and the store's writer (the
   * registry's tee to a waiting client); it must hand every byte on to
   * `store`, end it after the last one, and let nothing pass on that the
   * store has not verified (it finishes only once `store` did, failing with
   * its error). The store's verification then covers both, and each byte is
   * hashed once.
   */
  through?: (store: Writable) => Writable;
}

/**
 * The one way a blob comes from an upstream into the store, for the sync and
 * for the registry's on-demand fetches alike: downloads it with `client`
 * (size checked, a broken connection resumed), has the store verify its
 * digest and size before the blob becomes visible, then marks its Blob row
 * stored. Rejects with the client's UpstreamError (DIGEST_MISMATCH for bytes
 * that do not hash to the digest, SIZE_INVALID, or how the upstream failed)
 * or the store's StorageError, and then nothing of the blob is left in the
 * store; or with the database's error when marking fails, and then the blob is
 * stored but its row not marked (the store's `exists` finds it next time).
 */
export async function ingestBlob(client: UpstreamClient, blob: IngestedBlob, target: IngestTarget, options: IngestOptions = {}): Promise<void> {
  const { digest, size } = blob;
  const sink = target.store.createWriteStream(digest, size);
  const destination = options.through?.(sink.stream) ?? sink.stream;
  try {
    // The store's writer verifies the digest (a `through` stream waits for it): each byte is hashed once.
    await client.getBlob(digest, destination, { size, signal: options.signal, sinkVerifiesDigest: true });
    await sink.done;
  } catch (error) {
    // Also when the download failed before its first byte: the store removes what it was given.
    sink.stream.destroy(error as Error);
    await sink.done.catch(() => undefined);
    throw error;
  }
  await target.marks.mark(digest);
}
