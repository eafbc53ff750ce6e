import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobContent } from './blob-store.ts';

/** Content that arrives as a stream (e.g. from a remote while it downloads). */
export function streamContent(stream: Readable, size: number, offset: number, length: number): BlobContent {
  return {
    size,
    offset,
    length,
    writeTo: (destination: Writable, signal?: AbortSignal) => pipeline(stream, destination, signal ? { signal } : {}),
    discard: async () => void stream.destroy(),
  };
}
