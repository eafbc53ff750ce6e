import { CisternError, isCisternError, type ErrorCode } from '@cistern/errors';

/**
 * The Distribution API's error codes this registry answers with, and the one
 * table from code to HTTP status. What the registry refuses on purpose becomes a
 * RegistryError (storage and upstream errors are translated where they are
 * read); the app turns it into `{"errors":[...]}` in one place.
 */
const STATUS = {
  BLOB_UNKNOWN: 404,
  DIGEST_INVALID: 400,
  MANIFEST_UNKNOWN: 404,
  NAME_INVALID: 400,
  NAME_UNKNOWN: 404,
  TAG_INVALID: 400,
  PAGINATION_NUMBER_INVALID: 400,
  RANGE_INVALID: 416,
  UNAUTHORIZED: 401,
  DENIED: 403,
  UNSUPPORTED: 405,
  TOOMANYREQUESTS: 429,
  UNAVAILABLE: 503,
  UNKNOWN: 500,
} as const satisfies Partial<Record<ErrorCode, number>>;

export type RegistryErrorCode = keyof typeof STATUS;

/** Whether `code` is one this registry answers with (e.g. one read back from Redis). */
export function isRegistryErrorCode(code: string): code is RegistryErrorCode {
  return Object.hasOwn(STATUS, code);
}

export interface RegistryErrorOptions {
  detail?: unknown;
  cause?: unknown;
  /** Extra response headers, e.g. the Bearer challenge of a 401. */
  headers?: Record<string, string>;
}

/** A CisternError with what only HTTP needs: the status of its code and extra response headers. */
export class RegistryError extends CisternError<RegistryErrorCode> {
  override readonly name = 'RegistryError';
  readonly headers: Record<string, string>;

  constructor(code: RegistryErrorCode, message: string, options: RegistryErrorOptions = {}) {
    super(code, message, options);
    this.headers = options.headers ?? {};
  }

  get status(): number {
    return STATUS[this.code];
  }

  toBody(): { errors: { code: string; message: string; detail?: unknown }[] } {
    return { errors: [{ code: this.code, message: this.message, ...(this.detail === undefined ? {} : { detail: this.detail }) }] };
  }
}

/** What a 503 for an unreachable Redis asks clients to wait: it reconnects within 2 s of coming back. */
const REDIS_RETRY_AFTER_SECONDS = 5;

/**
 * The RegistryError to answer with. Other packages' errors are translated
 * where their meaning is known (the blob route's storage codes, an upstream's
 * failure); REDIS_UNAVAILABLE, from whatever needed Redis, is Distribution's
 * UNAVAILABLE (503, as Distribution answers when a service it needs is down)
 * with Retry-After, its message without the Redis address; one that reaches
 * here unexplained is UNKNOWN, kept as `cause` for the log, never a 4xx it
 * might not mean.
 */
export function toRegistryError(error: unknown): RegistryError {
  if (error instanceof RegistryError) return error;
  if (isCisternError(error, 'REDIS_UNAVAILABLE')) {
    return new RegistryError('UNAVAILABLE', 'service unavailable: Redis, which the registry needs for this request, is unreachable; try again later', {
      cause: error,
      headers: { 'retry-after': String(REDIS_RETRY_AFTER_SECONDS) },
    });
  }
  return new RegistryError('UNKNOWN', 'internal error', { cause: error });
}
