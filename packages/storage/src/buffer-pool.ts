/**
 * Read buffers shared by every file being served. Allocating a fresh 1 MiB
 * buffer per read made large-blob serving allocation-bound (fresh pages are
 * faulted in on each one, and garbage collection follows): bench/serve's
 * 100 MiB GET went from 0.5x to about 1.5x of Distribution with reuse.
 */
export const READ_BUFFER_BYTES = 1 << 20;

/** Enough for 16 concurrent transfers' double buffers; beyond that, buffers are left to the GC. */
const MAX_POOLED = 32;

const pool: Buffer[] = [];

export function takeReadBuffer(): Buffer {
  return pool.pop() ?? Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);
}

/** Only once nothing references the buffer any more (its write completed). */
export function returnReadBuffer(buffer: Buffer): void {
  if (pool.length < MAX_POOLED) pool.push(buffer);
}
