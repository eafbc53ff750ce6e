import type { ErrorCode } from './error-codes.ts';

export interface CisternErrorOptions {
  /** Machine-readable detail for the caller, never HTTP-specific (no status, no headers). */
  detail?: unknown;
  /** Whether the same operation may succeed if tried again later. Default false. */
  retryable?: boolean;
  cause?: unknown;
}

/**
 * The one base class of every error Cistern throws on purpose: a code from
 * `ERROR_CODES`, a message for people, optional detail, whether a retry may
 * help, and the cause. Callers branch on `code` (never on the message); the
 * HTTP edges map codes to statuses.
 */
export class CisternError<C extends ErrorCode = ErrorCode> extends Error {
  override readonly name: string = 'CisternError';
  readonly code: C;
  readonly detail: unknown;
  readonly retryable: boolean;

  constructor(code: C, message: string, options: CisternErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.detail = options.detail;
    this.retryable = options.retryable ?? false;
  }
}

/** Narrows to a CisternError, optionally of one of the given codes. */
export function isCisternError<C extends ErrorCode>(error: unknown, ...codes: C[]): error is CisternError<C> {
  return error instanceof CisternError && (codes.length === 0 || (codes as ErrorCode[]).includes(error.code));
}
