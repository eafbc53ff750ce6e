import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isCisternError } from '@cistern/errors';
import { createDigester, parseDigest } from '@cistern/oci';
import { eitherSignal } from './abort.ts';
import { discard, drain, header } from './body.ts';
import type { OperationContext } from './context.ts';
import { UpstreamError, displayUrl, networkError } from './errors.ts';
import { backoffMs, sleep } from './retry.ts';

/**
 * Where blob bytes go as they arrive: a Node Writable (e.g. the writable of a
 * storage BlobSink), a web WritableStream, or a function consuming the
 * chunks. On a digest or size mismatch the destination is destroyed with the
 * error (the function's iteration throws) and never ended, so a store never
 * commits bad bytes.
 */
export type BlobDestination = NodeJS.WritableStream | WritableStream<Uint8Array> | ((chunks: AsyncIterable<Uint8Array>) => Promise<unknown>);

/** A blob as the upstream describes it (HEAD) or delivered it (GET): its digest, and its size in bytes. */
export interface UpstreamBlob {
  digest: string;
  size: number;
}

export interface GetBlobOptions {
  /** The size the descriptor promises; more or fewer bytes fail with SIZE_INVALID. */
  size?: number;
  signal?: AbortSignal;
  /**
   * The sink checks the digest itself and fails its end with a CisternError
   * coded DIGEST_MISMATCH (a verifying blob store writer), so the client skips
   * hashing and each byte is hashed once. Sizes are still checked here, and
   * the sink's mismatch is reported as this client's DIGEST_MISMATCH. Not for a
   * sink that passes bytes on before they are verified.
   */
  sinkVerifiesDigest?: boolean;
}

function blobUrl(ctx: OperationContext, digest: string): URL {
  return new URL(`${ctx.base}/blobs/${digest}`);
}

/** HEAD of a blob: its size, and the upstream's digest when it says one. */
export async function headBlob(ctx: OperationContext, digest: string): Promise<UpstreamBlob> {
  parseDigest(digest);
  const url = blobUrl(ctx, digest);
  const response = await ctx.limits.exchange(async () => {
    const answer = await ctx.core.send({ method: 'HEAD', url, kind: 'blob' });
    await drain(answer.body, displayUrl(url));
    return answer;
  }, ctx.signal);
  const size = Number(header(response.headers, 'content-length'));
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new UpstreamError('INVALID_RESPONSE', 'blob HEAD without a Content-Length', { url: displayUrl(url) });
  }
  return { digest, size };
}

/**
 * Streams a blob into `sink` while hashing it (unless the sink verifies the
 * digest), inside one of the remote's download slots. A connection that breaks
 * mid-body resumes with `Range` (or skips what was already passed on when the
 * upstream ignores Range); the digest is checked over everything the sink received.
 */
export async function getBlob(ctx: OperationContext, digest: string, sink: BlobDestination, options: GetBlobOptions = {}): Promise<UpstreamBlob> {
  const { algorithm } = parseDigest(digest);
  const url = blobUrl(ctx, digest);
  const shown = displayUrl(url);
  const signal = eitherSignal(ctx.signal, options.signal);
  return ctx.limits.download(async () => {
    const digester = options.sinkVerifiesDigest ? undefined : createDigester(algorithm);
    let received = 0;
    let total = options.size;

    async function* chunks(): AsyncGenerator<Uint8Array> {
      for (let resumes = 0; ;) {
        const resuming = received > 0;
        const response = await ctx.core.send({
          method: 'GET',
          url,
          kind: 'blob',
          headers: resuming ? { range: `bytes=${received}-` } : {},
          signal: options.signal,
        });
        const length = Number(header(response.headers, 'content-length'));
        let skip = resuming && response.status !== 206 ? received : 0;
        if (response.status === 200 && Number.isSafeInteger(length)) {
          if (total !== undefined && length !== total) {
            discard(response.body);
            throw new UpstreamError('SIZE_INVALID', `blob is ${length} bytes, expected ${total}`, { url: shown });
          }
          total = length;
        }
        try {
          for await (const raw of response.body as AsyncIterable<Buffer>) {
            let chunk = raw;
            if (skip > 0) {
              const dropped = Math.min(skip, chunk.length);
              skip -= dropped;
              chunk = chunk.subarray(dropped);
              if (chunk.length === 0) continue;
            }
            received += chunk.length;
            if (total !== undefined && received > total) {
              throw new UpstreamError('SIZE_INVALID', `blob is longer than ${total} bytes`, { url: shown });
            }
            digester?.update(chunk);
            yield chunk;
          }
          break;
        } catch (error) {
          discard(response.body);
          const failure = networkError(error, shown);
          if (!failure.retryable || failure.code !== 'UPSTREAM_UNAVAILABLE' || resumes >= ctx.maxRetries || signal?.aborted) throw failure;
          resumes += 1;
          ctx.core.retried('blob');
          await sleep(backoffMs(resumes - 1, { retryBaseMs: ctx.retryBaseMs, retryMaxMs: ctx.retryMaxMs }), signal);
        }
      }
      if (total !== undefined && received !== total) {
        throw new UpstreamError('SIZE_INVALID', `blob ended at ${received} of ${total} bytes`, { url: shown });
      }
      const actual = digester?.digest();
      if (actual !== undefined && actual !== digest) {
        throw new UpstreamError('DIGEST_MISMATCH', `blob digest ${actual} is not ${digest}`, { url: shown });
      }
    }

    const destination = typeof sink === 'function' ? sink : sink instanceof WritableStream ? Writable.fromWeb(sink) : sink;
    try {
      await pipeline(chunks, destination as NodeJS.WritableStream);
    } catch (error) {
      if (digester === undefined && isCisternError(error, 'DIGEST_MISMATCH')) {
        throw new UpstreamError('DIGEST_MISMATCH', `blob is not ${digest}: ${error.message}`, { url: shown, cause: error });
      }
      throw error;
    }
    return { digest, size: received };
  }, signal);
}
