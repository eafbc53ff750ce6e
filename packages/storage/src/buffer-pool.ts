/**
 * 1 MiB buffers shared by every blob being served or written. A fresh 1 MiB
 * buffer per read or write made large blobs allocation-bound on this machine
 * (fresh pages are faulted in each time, and garbage collection follows):
 * bench/serve's 100 MiB GET went from 0.5x to about 1.5x of Distribution with reuse.
 */
export const POOLED_BUFFER_BYTES = 1 << 20;

/** Enough for 16 concurrent transfers' double buffers; beyond that, buffers are left to the GC. */
const MAX_POOLED = 32;

const WASM_PAGE_BYTES = 64 * 1024;

// Node has WebAssembly; TypeScript declares it only with the DOM types, which this project leaves out.
declare const WebAssembly: { Memory: new (descriptor: { initial: number }) => { readonly buffer: ArrayBuffer } };

/**
 * Buffers for blob writes are slices of one WebAssembly memory, because its
 * start is page-aligned, as O_DIRECT needs, and JavaScript has no other way to
 * ask for aligned memory. Its pages are only resident once used. They are a
 * pool of their own: a served response that fails keeps its buffer, and that
 * must not cost a slice for good (the writer always gives its buffers back).
 */
let slab: ArrayBuffer | undefined;
let sliced = 0;
const aligned: Buffer[] = [];
const unaligned: Buffer[] = [];

export function takeBuffer(): Buffer {
  return unaligned.pop() ?? Buffer.allocUnsafeSlow(POOLED_BUFFER_BYTES);
}

/** A buffer O_DIRECT can write from while the slab lasts; an ordinary one after that. */
export function takeAlignedBuffer(): Buffer {
  const pooled = aligned.pop();
  if (pooled !== undefined) return pooled;
  if (sliced === MAX_POOLED) return takeBuffer();
  const memory = (slab ??= new WebAssembly.Memory({ initial: (MAX_POOLED * POOLED_BUFFER_BYTES) / WASM_PAGE_BYTES }).buffer);
  return Buffer.from(memory, POOLED_BUFFER_BYTES * sliced++, POOLED_BUFFER_BYTES);
}

/** Only once nothing references the buffer any more (its read or write completed). */
export function returnBuffer(buffer: Buffer): void {
  if (inSlab(buffer)) aligned.push(buffer);
  else if (unaligned.length < MAX_POOLED) unaligned.push(buffer);
}

/** Enough for O_DIRECT on any Linux block device (their logical blocks are 512 or 4096 bytes). */
export const DIRECT_IO_ALIGNMENT = 4096;

/** True of aligned buffers and their aligned subarrays: O_DIRECT can write from their memory. */
export function isAlignedForDirectIo(buffer: Buffer): boolean {
  return inSlab(buffer) && buffer.byteOffset % DIRECT_IO_ALIGNMENT === 0;
}

function inSlab(buffer: Buffer): boolean {
  return slab !== undefined && buffer.buffer === slab;
}
