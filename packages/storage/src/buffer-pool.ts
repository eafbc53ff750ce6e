/**
 * 1 MiB buffers reused by the blobs being served or written. A fresh 1 MiB
 * buffer per read or write made large blobs allocation-bound on this machine
 * (fresh pages are faulted in each time, and garbage collection follows):
 * bench/serve's 100 MiB GET went from 0.5x to about 1.5x of Distribution with reuse.
 */
export const POOLED_BUFFER_BYTES = 1 << 20;

/** Per pool: enough for 16 concurrent transfers' double buffers. */
const MAX_POOLED = 32;

const WASM_PAGE_BYTES = 64 * 1024;

// Node has WebAssembly (unless run --jitless); TypeScript declares it only with the DOM types, left out here.
declare const WebAssembly: { Memory: new (descriptor: { initial: number }) => { readonly buffer: ArrayBuffer } };

/**
 * Buffers for O_DIRECT writes are slices of one WebAssembly memory, because
 * its start is page-aligned and JavaScript has no other way to ask for aligned
 * memory; its pages are only resident once used. They are a pool of their own,
 * given back by the blob writer on every path: a served response that fails
 * keeps its buffer, which must not cost a slice for good.
 */
let slab: ArrayBuffer | undefined;
let slabUnavailable = false;
let sliced = 0;
const aligned: Buffer[] = [];
const unaligned: Buffer[] = [];

export function takeBuffer(): Buffer {
  return unaligned.pop() ?? Buffer.allocUnsafeSlow(POOLED_BUFFER_BYTES);
}

/** A slice of the slab while one is free, else an ordinary buffer (written through the page cache). */
export function takeAlignedBuffer(): Buffer {
  const pooled = aligned.pop();
  if (pooled !== undefined) return pooled;
  const memory = sliced < MAX_POOLED ? slabMemory() : undefined;
  if (memory === undefined) return takeBuffer();
  return Buffer.from(memory, POOLED_BUFFER_BYTES * sliced++, POOLED_BUFFER_BYTES);
}

/** Only once nothing references the buffer any more (its read or write completed). */
export function returnBuffer(buffer: Buffer): void {
  if (inSlab(buffer)) aligned.push(buffer);
  else if (unaligned.length < MAX_POOLED) unaligned.push(buffer);
}

/** True of aligned buffers and their subarrays: their offsets count from a page boundary. */
export function inSlab(buffer: Buffer): boolean {
  return slab !== undefined && buffer.buffer === slab;
}

function slabMemory(): ArrayBuffer | undefined {
  if (slab !== undefined || slabUnavailable) return slab;
  try {
    slab = new WebAssembly.Memory({ initial: (MAX_POOLED * POOLED_BUFFER_BYTES) / WASM_PAGE_BYTES }).buffer;
  } catch {
    // No WebAssembly (--jitless), or an address-space limit below its reservation: for the
    // life of the process, writes go through the page cache rather than retrying each time.
    slabUnavailable = true;
  }
  return slab;
}
