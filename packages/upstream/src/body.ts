import { UpstreamError, networkError } from './errors.ts';

type Body = AsyncIterable<Uint8Array> & { destroy(error?: Error): unknown; on(event: 'error', listener: () => void): unknown; dump(): Promise<void> };

/** Drops a response body without reading it (undici reports a destroy as an error event: swallow it). */
export function discard(body: Body): void {
  body.on('error', () => undefined);
  body.destroy();
}

/**
 * Reads a whole response body, failing with SIZE_INVALID past `max` bytes
 * (untrusted upstreams). A body cut off midway fails as a network error
 * (UPSTREAM_UNAVAILABLE), like a failure before the headers.
 */
export async function readLimited(body: Body, max: number, url: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      size += chunk.length;
      if (size > max) {
        discard(body);
        throw new UpstreamError('SIZE_INVALID', `response larger than ${max} bytes`, { url });
      }
      chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
    }
  } catch (error) {
    throw networkError(error, url);
  }
  return Buffer.concat(chunks, size);
}

/** Drops the rest of a body while keeping the connection; a body cut off midway fails as a network error. */
export async function drain(body: Body, url: string): Promise<void> {
  try {
    await body.dump();
  } catch (error) {
    throw networkError(error, url);
  }
}

/** The first value of a response header. */
export function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
