/**
 * The Distribution API's error codes this registry answers with, and the one
 * table from code to HTTP status. Everything the core refuses on purpose is a
 * RegistryError; the app turns it into `{"errors":[...]}` in one place.
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
} as const;

export type RegistryErrorCode = keyof typeof STATUS;

export interface RegistryErrorOptions {
  detail?: unknown;
  cause?: unknown;
  /** Extra response headers, e.g. the Bearer challenge of a 401. */
  headers?: Record<string, string>;
}

export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  readonly detail: unknown;
  readonly headers: Record<string, string>;

  constructor(
    readonly code: RegistryErrorCode,
    message: string,
    options: RegistryErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.detail = options.detail;
    this.headers = options.headers ?? {};
  }

  get status(): number {
    return STATUS[this.code];
  }

  toBody(): { errors: { code: string; message: string; detail?: unknown }[] } {
    return { errors: [{ code: this.code, message: this.message, ...(this.detail === undefined ? {} : { detail: this.detail }) }] };
  }
}

/** Anything else that escapes becomes UNKNOWN, the original kept as `cause` for the log. */
export function toRegistryError(error: unknown): RegistryError {
  if (error instanceof RegistryError) return error;
  return new RegistryError('UNKNOWN', 'internal error', { cause: error });
}
