import { CisternError, type ErrorCode as CisternErrorCode } from '@cistern/errors';

/** Every error code the API answers with, and its HTTP status: the one table. */
export const ERROR_STATUS = {
  VALIDATION_FAILED: 400,
  MALFORMED_JSON: 400,
  MALFORMED_REQUEST: 400,
  NO_REMOTE: 400,
  INVALID_REFERENCE: 400,
  UPSTREAM_NAME_MISSING: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  VERSION_UNKNOWN: 404,
  METHOD_NOT_ALLOWED: 405,
  ALREADY_EXISTS: 409,
  IN_USE: 409,
  TASK_STATE_CONFLICT: 409,
  VERSION_PROTECTED: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  INTERNAL_ERROR: 500,
  REDIS_UNAVAILABLE: 503,
} as const satisfies Partial<Record<CisternErrorCode, number>>;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ErrorDetail {
  /** Where the problem is, e.g. `body.url` or `query.limit`. */
  path?: string;
  code?: string;
  message: string;
}

/** Handlers throw this; the error middleware alone turns it into a response. */
export class ApiError extends CisternError<ErrorCode> {
  override readonly name = 'ApiError';

  constructor(
    code: ErrorCode,
    message: string,
    readonly details: ErrorDetail[] = [],
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}
