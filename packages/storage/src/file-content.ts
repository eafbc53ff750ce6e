import type { FileHandle } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { BlobContent } from './blob-store.ts';
import { POOLED_BUFFER_BYTES, returnBuffer, takeBuffer } from './buffer-pool.ts';
import { StorageError, unavailable } from './errors.ts';

/** A pooled buffer and the part of it a read filled. */
interface Chunk {
  readonly buffer: Buffer;
  readonly bytes: Buffer;
}

/**
 * Bytes [offset, offset + length) of an open file, which this content owns.
 * Two pooled buffers alternate: one is read into while the other is being
 * written, and a buffer goes back to the pool only once its write called back.
 */
export function fileContent(digest: string, file: FileHandle, size: number, offset: number, length: number): BlobContent {
  let consumed = false;
  const release = () => file.close().catch(() => undefined);
  return {
    size,
    offset,
    length,
    async writeTo(destination: Writable, signal?: AbortSignal): Promise<void> {
      if (consumed) throw new StorageError('STORAGE_UNAVAILABLE', `content of ${digest} was already consumed`);
      consumed = true;
      // Settles on 'finish', or rejects on an error, a close before it, or `signal`: a
      // response queued behind a pipelined one never closes when its client leaves.
      const closed = finished(destination, { readable: false, ...(signal ? { signal } : {}) });
      closed.catch(() => undefined);
      try {
        await Promise.race([copyRange(digest, file, offset, length, destination), closed]);
        destination.end();
        await closed;
      } catch (error) {
        // Without the error: it is the caller's to handle, through this rejection, not through an 'error' event.
        destination.destroy();
        throw signal?.aborted ? new StorageError('STORAGE_UNAVAILABLE', 'transfer aborted', { cause: signal.reason }) : error;
      } finally {
        await release();
      }
    },
    async discard(): Promise<void> {
      if (consumed) return;
      consumed = true;
      await release();
    },
  };
}

async function copyRange(digest: string, file: FileHandle, offset: number, length: number, destination: Writable): Promise<void> {
  const end = offset + length;
  let position = offset;
  let reading = position < end ? observed(readChunk(digest, file, position, end)) : undefined;
  let writing = Promise.resolve();
  while (reading) {
    const chunk = await reading;
    position += chunk.bytes.length;
    // Keep one read and one write in flight, never two writes.
    await writing;
    reading = position < end ? observed(readChunk(digest, file, position, end)) : undefined;
    writing = observed(write(destination, chunk));
  }
  await writing;
}

/**
 * The read and the write in flight may fail while the other is awaited, or
 * after the loop left on a failure: mark them handled; awaiting still throws.
 */
function observed<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

async function readChunk(digest: string, file: FileHandle, position: number, end: number): Promise<Chunk> {
  const buffer = takeBuffer();
  let bytesRead: number;
  try {
    ({ bytesRead } = await file.read(buffer, 0, Math.min(POOLED_BUFFER_BYTES, end - position), position));
  } catch (error) {
    returnBuffer(buffer);
    throw unavailable(`cannot read blob ${digest}`, error);
  }
  if (bytesRead === 0) {
    returnBuffer(buffer);
    throw new StorageError('STORAGE_UNAVAILABLE', `blob ${digest} ended at byte ${position}, before its end`);
  }
  return { buffer, bytes: buffer.subarray(0, bytesRead) };
}

function write(destination: Writable, chunk: Chunk): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    destination.write(chunk.bytes, (error?: Error | null) => {
      // A failed write may still reference the bytes: only a completed one gives its buffer back.
      if (error) {
        reject(error);
        return;
      }
      returnBuffer(chunk.buffer);
      resolve();
    });
  });
}
