import { contentTypeMediaType, isDigest, manifestAcceptHeader, manifestDigest, parseDigest } from '@cistern/oci';
import { discard, drain, header, readLimited } from './body.ts';
import type { OperationContext } from './context.ts';
import { UpstreamError, displayUrl, isUpstreamError } from './errors.ts';
import { backoffMs, sleep } from './retry.ts';

export interface ManifestInfo {
  digest: string;
  mediaType: string;
  size: number;
  /** The bytes, when the upstream sent no usable digest on HEAD and the manifest had to be fetched (ECR). */
  bytes?: Buffer;
}

export interface FetchedManifest extends ManifestInfo {
  /** Exactly as served: store and serve these bytes. */
  bytes: Buffer;
}

function manifestUrl(ctx: OperationContext, reference: string): URL {
  return new URL(`${ctx.base}/manifests/${reference}`);
}

/**
 * GET of a manifest with the full Accept set. A digest reference is verified
 * against the bytes in the algorithm it names; a tag is verified against
 * `Docker-Content-Digest` when the upstream sends a usable one. The digest is
 * computed as `manifestDigest` does (signed schema 1 by its payload, whatever
 * the label). Bodies past `maxManifestBytes` are refused (SIZE_INVALID). A
 * transfer that went wrong (bytes that do not match, a body cut off midway) is
 * fetched again up to `maxRetries` times with backoff, then fails with its
 * error (DIGEST_MISMATCH, UPSTREAM_UNAVAILABLE).
 */
export async function getManifest(ctx: OperationContext, reference: string): Promise<FetchedManifest> {
  for (let attempt = 0; ; attempt += 1) {
    const outcome = await fetchManifest(ctx, reference);
    if (!('failed' in outcome)) return outcome;
    if (attempt >= ctx.maxRetries || ctx.signal?.aborted) throw outcome.failed;
    ctx.core.retried('manifest');
    await sleep(backoffMs(attempt, ctx), ctx.signal);
  }
}

/** One GET: the manifest, or the failure of a transfer that another GET may get right; other errors are thrown. */
async function fetchManifest(ctx: OperationContext, reference: string): Promise<FetchedManifest | { failed: UpstreamError }> {
  const url = manifestUrl(ctx, reference);
  const shown = displayUrl(url);
  const read = await ctx.limits.exchange(async () => {
    const response = await ctx.core.send({ method: 'GET', url, kind: 'manifest', accept: manifestAcceptHeader() });
    const declared = Number(header(response.headers, 'content-length'));
    if (declared > ctx.maxManifestBytes) {
      discard(response.body);
      throw new UpstreamError('SIZE_INVALID', `manifest of ${declared} bytes exceeds ${ctx.maxManifestBytes}`, { url: shown });
    }
    try {
      return { bytes: await readLimited(response.body, ctx.maxManifestBytes, shown), headers: response.headers };
    } catch (error) {
      // A body cut off midway; a body too large is final.
      if (isUpstreamError(error) && error.retryable) return { failed: error };
      throw error;
    }
  }, ctx.signal);
  if (read.failed) return { failed: read.failed };
  const { bytes, headers } = read;
  const mediaType = contentTypeMediaType(header(headers, 'content-type') ?? '') || mediaTypeField(bytes);
  // `Docker-Content-Digest` is a SHOULD (ECR and others omit it): without one, a tag's digest is the sha256 of its bytes.
  const served = header(headers, 'docker-content-digest');
  const expected = isDigest(reference) ? reference : served !== undefined && isDigest(served) ? served : undefined;
  const digest = manifestDigest(bytes, expected === undefined ? 'sha256' : parseDigest(expected).algorithm);
  if (expected !== undefined && digest !== expected) {
    return { failed: new UpstreamError('DIGEST_MISMATCH', `manifest digest ${digest} is not ${expected}`, { url: shown }) };
  }
  return { bytes, digest, mediaType, size: bytes.length };
}

function mediaTypeField(bytes: Buffer): string {
  try {
    const value = (JSON.parse(bytes.toString('utf8')) as { mediaType?: unknown }).mediaType;
    return typeof value === 'string' ? value : '';
  } catch {
    return '';
  }
}

/**
 * HEAD of a manifest with the same Accept set as GET (or the digest may
 * differ). HEADs do not count against Docker Hub's pull limit. Falls back to
 * a GET only when the upstream sends no usable `Docker-Content-Digest`, and
 * then hands on the bytes, so that the caller need not fetch them again.
 */
export async function headManifest(ctx: OperationContext, reference: string): Promise<ManifestInfo> {
  const url = manifestUrl(ctx, reference);
  const response = await ctx.limits.exchange(async () => {
    const answer = await ctx.core.send({ method: 'HEAD', url, kind: 'manifest', accept: manifestAcceptHeader() });
    await drain(answer.body, displayUrl(url));
    return answer;
  }, ctx.signal);
  const digest = header(response.headers, 'docker-content-digest');
  const mediaType = contentTypeMediaType(header(response.headers, 'content-type') ?? '');
  const size = Number(header(response.headers, 'content-length'));
  if (digest === undefined || !isDigest(digest) || !mediaType || !Number.isSafeInteger(size)) {
    return getManifest(ctx, reference);
  }
  if (isDigest(reference) && digest !== reference) {
    throw new UpstreamError('DIGEST_MISMATCH', `upstream says ${digest} for ${reference}`, { url: displayUrl(url) });
  }
  return { digest, mediaType, size };
}
