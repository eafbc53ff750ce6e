import { CisternError, isCisternError } from '@cistern/errors';

/** Every way an upstream call can fail; Distribution's error codes where one fits (each in `ERROR_CODES`). */
export type UpstreamErrorCode =
  | 'UNAUTHORIZED'
  | 'DENIED'
  | 'NAME_UNKNOWN'
  | 'MANIFEST_UNKNOWN'
  | 'BLOB_UNKNOWN'
  | 'TOOMANYREQUESTS'
  | 'DIGEST_MISMATCH'
  | 'SIZE_INVALID'
  | 'INVALID_RESPONSE'
  | 'UPSTREAM_UNAVAILABLE'
  | 'UPSTREAM_ERROR';

export interface UpstreamErrorDetails {
  retryable?: boolean;
  status?: number;
  /** The URL asked for, never with credentials. */
  url: string;
  retryAfterMs?: number;
  cause?: unknown;
}

/** Codes a caller may retry later with a fresh attempt (and, for blobs, a fresh sink). */
const RETRYABLE: ReadonlySet<UpstreamErrorCode> = new Set(['UPSTREAM_UNAVAILABLE', 'DIGEST_MISMATCH', 'TOOMANYREQUESTS']);

/** The one error type of this package: a code, whether retrying is worth it, and where it happened. */
export class UpstreamError extends CisternError<UpstreamErrorCode> {
  override readonly name = 'UpstreamError';
  readonly status: number | undefined;
  readonly url: string;
  readonly retryAfterMs: number | undefined;

  constructor(code: UpstreamErrorCode, message: string, details: UpstreamErrorDetails) {
    super(code, `${message} (${details.status === undefined ? '' : `HTTP ${details.status} `}${details.url})`, {
      retryable: details.retryable ?? RETRYABLE.has(code),
      cause: details.cause,
    });
    this.status = details.status;
    this.url = details.url;
    this.retryAfterMs = details.retryAfterMs;
  }
}

/** An UpstreamError (the remote's failure, not ours of the same code), optionally of one of the given codes. */
export function isUpstreamError(error: unknown, ...codes: UpstreamErrorCode[]): error is UpstreamError {
  return error instanceof UpstreamError && isCisternError(error, ...codes);
}

/** A URL safe to show: no user info, no query (tokens may travel there). */
export function displayUrl(url: URL | string): string {
  const u = new URL(url.toString());
  u.username = '';
  u.password = '';
  u.search = '';
  return u.toString();
}

export type RequestKind = 'ping' | 'manifest' | 'blob' | 'tags' | 'referrers' | 'token';

const NOT_FOUND: Record<RequestKind, UpstreamErrorCode> = {
  ping: 'UPSTREAM_ERROR',
  manifest: 'MANIFEST_UNKNOWN',
  blob: 'BLOB_UNKNOWN',
  tags: 'NAME_UNKNOWN',
  referrers: 'MANIFEST_UNKNOWN',
  token: 'UNAUTHORIZED',
};

const BODY_CODES: ReadonlySet<string> = new Set([
  'UNAUTHORIZED',
  'DENIED',
  'NAME_UNKNOWN',
  'MANIFEST_UNKNOWN',
  'BLOB_UNKNOWN',
  'TOOMANYREQUESTS',
  'SIZE_INVALID',
]);

/** The first Distribution error code of a JSON error body, if it is one this package names. */
function bodyCode(body: string): { code?: UpstreamErrorCode; message?: string } {
  try {
    const parsed = JSON.parse(body) as { errors?: Array<{ code?: unknown; message?: unknown }> };
    const first = parsed.errors?.[0];
    const code = typeof first?.code === 'string' && BODY_CODES.has(first.code) ? (first.code as UpstreamErrorCode) : undefined;
    return { code, message: typeof first?.message === 'string' ? first.message.slice(0, 200) : undefined };
  } catch {
    return {};
  }
}

/** Turns a final (not retried) error status into the error to throw. */
export function errorForStatus(status: number, kind: RequestKind, url: string, body: string, retryAfterMs?: number): UpstreamError {
  const parsed = bodyCode(body);
  const detail = parsed.message ? `: ${parsed.message}` : '';
  if (status === 401) return new UpstreamError('UNAUTHORIZED', `upstream refused the credentials${detail}`, { status, url });
  if (status === 403) return new UpstreamError('DENIED', `upstream denied access${detail}`, { status, url });
  if (status === 404) return new UpstreamError(parsed.code ?? NOT_FOUND[kind], `not found upstream${detail}`, { status, url });
  if (status === 429) {
    return new UpstreamError('TOOMANYREQUESTS', `upstream rate limit reached${detail}`, { status, url, retryAfterMs });
  }
  if (status >= 500) return new UpstreamError('UPSTREAM_UNAVAILABLE', `upstream failed${detail}`, { status, url });
  return new UpstreamError('UPSTREAM_ERROR', `upstream answered ${status}${detail}`, { status, url });
}

const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** What undici's timeouts mean in the remote's own settings. */
const TIMEOUTS: Readonly<Record<string, string>> = {
  UND_ERR_CONNECT_TIMEOUT: "no connection within the remote's connectTimeoutMs",
  UND_ERR_HEADERS_TIMEOUT: "no answer within the remote's readTimeoutMs",
  UND_ERR_BODY_TIMEOUT: "the body stalled for longer than the remote's readTimeoutMs",
};

/** Wraps a thrown network error; connection failures and timeouts are worth retrying, TLS failures are not. */
export function networkError(error: unknown, url: string): UpstreamError {
  if (error instanceof UpstreamError) return error;
  const code = (error as { code?: unknown }).code;
  const message = (typeof code === 'string' ? TIMEOUTS[code] : undefined) ?? (error instanceof Error ? error.message : String(error));
  const retryable = typeof code === 'string' && NETWORK_CODES.has(code);
  return new UpstreamError(retryable ? 'UPSTREAM_UNAVAILABLE' : 'UPSTREAM_ERROR', `request failed: ${message}`, {
    url,
    retryable,
    cause: error,
  });
}
