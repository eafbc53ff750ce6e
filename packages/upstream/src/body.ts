import { UpstreamError } from './errors.ts';

/** Reads a whole response body, failing with SIZE_INVALID past `max` bytes (untrusted upstreams). */
type Body = AsyncIterable<Uint8Array> & { destroy(error?: Error): unknown; on(event: 'error', listener: () => void): unknown };

/** Drops a response body without reading it (undici reports a destroy as an error event: swallow it). */
export function discard(body: Body): void {
  body.on('error', () => undefined);
  body.destroy();
}

export async function readLimited(body: Body, max: number, url: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > max) {
      discard(body);
      throw new UpstreamError('SIZE_INVALID', `response larger than ${max} bytes`, { url });
    }
    chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
  }
  return Buffer.concat(chunks, size);
}

/** The first value of a response header. */
export function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
