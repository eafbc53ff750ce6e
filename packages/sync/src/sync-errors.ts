import { isCisternError } from '@cistern/errors';
import { OciError } from '@cistern/oci';
import { TaskError } from '@cistern/queue';
import { isUpstreamError } from '@cistern/upstream';

/**
 * The two kinds of skip. *Refused*: the content itself is unacceptable
 * (malformed, an unknown top-level type, too large, denied by policy) or the
 * upstream no longer has it: it leaves a mirror. *Failed*: it could not be
 * brought in this time (an upstream error, a digest that never verifies, a
 * blob that would not download): a mirror keeps what it had, since nothing
 * replaced it.
 */
export type SkipKind = 'refused' | 'failed';

/**
 * The kind of skip a failure of one manifest or blob is, or undefined when it
 * stops the whole sync (credentials refused, rate limit, cancel, storage or
 * database trouble).
 */
export function skipKind(error: unknown): SkipKind | undefined {
  if (error instanceof OciError) return 'refused';
  if (!isUpstreamError(error)) return undefined;
  switch (error.code) {
    case 'MANIFEST_UNKNOWN':
    case 'SIZE_INVALID':
      return 'refused';
    case 'DIGEST_MISMATCH':
    case 'INVALID_RESPONSE':
    case 'UPSTREAM_UNAVAILABLE':
    case 'UPSTREAM_ERROR':
    case 'BLOB_UNKNOWN':
      return 'failed';
    default:
      return undefined;
  }
}

/** A skip's reason as a code of a bounded set, for the metrics: the error's code, or UNEXPECTED for anything without one. */
export function skipCode(error: unknown): string {
  return isCisternError(error) ? error.code : 'UNEXPECTED';
}

/** A skip's reason for its report: the code and message of the error that caused it. */
export function describeSkip(error: unknown): string {
  if (isCisternError(error)) return `${error.code}: ${error.message}`;
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
