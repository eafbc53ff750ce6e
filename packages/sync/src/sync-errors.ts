import { OciError } from '@cistern/oci';
import { TaskError } from '@cistern/queue';
import { isUpstreamError } from '@cistern/upstream';

/**
 * Whether a failure concerns one manifest only, so the sync skips it and goes on:
 * a malformed document, a type the policy or parser refuses, a tag that vanished,
 * bytes that do not hash to the digest they were asked for.
 */
export function isSkippable(error: unknown): boolean {
  if (error instanceof OciError) return true;
  return (
    isUpstreamError(error, 'MANIFEST_UNKNOWN') ||
    isUpstreamError(error, 'SIZE_INVALID') ||
    isUpstreamError(error, 'INVALID_RESPONSE') ||
    isUpstreamError(error, 'DIGEST_MISMATCH')
  );
}

export function describeSkip(error: unknown): string {
  if (error instanceof OciError) return `${error.code}: ${error.message}`;
  if (isUpstreamError(error)) return `${error.code}: ${error.message}`;
  return (error as Error).message;
}

/**
 * Turns what stops a sync into the task's error. A rate limit with a long window
 * is not retried inside the task (the next run resumes); transient upstream
 * trouble is retried; auth and unknown names are not.
 */
export function toSyncError(error: unknown): unknown {
  if (!isUpstreamError(error)) return error;
  if (error.code === 'TOOMANYREQUESTS') {
    return new TaskError('TOOMANYREQUESTS', `the upstream's rate limit was reached; what was stored is kept and the next sync resumes: ${error.message}`, {
      retryable: false,
      detail: { retryAfterMs: error.retryAfterMs },
      cause: error,
    });
  }
  return new TaskError(error.code, error.message, { retryable: error.retryable, cause: error });
}
