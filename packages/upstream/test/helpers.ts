import { Writable } from 'node:stream';
import { createHash } from 'node:crypto';

/** A sink that keeps what it received and whether it was ended or destroyed. */
export function recordingSink(): Writable & { bytes(): Buffer; finished: boolean; failed: Error | null } {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk);
      done();
    },
  }) as Writable & { bytes(): Buffer; finished: boolean; failed: Error | null };
  sink.bytes = () => Buffer.concat(chunks);
  sink.finished = false;
  sink.failed = null;
  sink.on('finish', () => (sink.finished = true));
  sink.on('error', (error) => (sink.failed = error));
  return sink;
}

export const sha256 = (bytes: Uint8Array): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** Fast retries for tests. */
export const FAST = { retryBaseMs: 5, retryMaxMs: 50 } as const;
