import { Prisma } from '@cistern/db';
import { CisternError, isCisternError } from '@cistern/errors';
import { ZodError, type z } from 'zod';
import { ApiError, type ErrorCode, type ErrorDetail } from './api-error.ts';

/** Zod issues as details, one per bad field, unknown keys each named. */
export function zodDetails(error: ZodError, location: string): ErrorDetail[] {
  return error.issues.flatMap((issue: z.core.$ZodIssue) => {
    const base = [location, ...issue.path.map(String)];
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: [...base, key].join('.'), code: 'unknown_field', message: 'unknown field' }));
    }
    return [{ path: base.join('.'), code: issue.code, message: issue.message }];
  });
}

/** body-parser and raw-body mark their errors with a `type`; each maps to one code. */
const BODY_PARSER_CODES = {
  'entity.too.large': ['PAYLOAD_TOO_LARGE', 'the request body is too large'],
  'entity.parse.failed': ['MALFORMED_JSON', 'the request body is not valid JSON (an object is expected)'],
  'encoding.unsupported': ['UNSUPPORTED_MEDIA_TYPE', 'unsupported content encoding: send identity, gzip, deflate or br'],
  'charset.unsupported': ['UNSUPPORTED_MEDIA_TYPE', 'unsupported charset; send UTF-8 JSON'],
  'request.size.invalid': ['MALFORMED_REQUEST', 'the request body is shorter than its Content-Length'],
  'request.aborted': ['MALFORMED_REQUEST', 'the client closed the request before its body ended'],
  'entity.verify.failed': ['VALIDATION_FAILED', 'the request body was rejected'],
} as const;

/**
 * An error of the JSON body parser, as the ApiError to answer with. Each one
 * is about the body the client sent; one without a known `type` is zlib
 * failing on data that is not the Content-Encoding it claims.
 */
export function bodyError(error: unknown): ApiError {
  const fields = typeof error === 'object' && error !== null ? (error as { type?: unknown; encoding?: unknown; charset?: unknown }) : {};
  const known = typeof fields.type === 'string' ? BODY_PARSER_CODES[fields.type as keyof typeof BODY_PARSER_CODES] : undefined;
  if (!known)
    return new ApiError(
      'MALFORMED_REQUEST',
      'the request body is not valid data of its Content-Encoding',
      [{ path: 'headers.content-encoding', message: 'does not match the body' }],
      { cause: error },
    );
  const named = fields.encoding ?? fields.charset;
  const details =
    typeof named === 'string'
      ? [{ path: fields.encoding === undefined ? 'headers.content-type' : 'headers.content-encoding', message: `"${named}" is not supported` }]
      : [];
  return new ApiError(known[0], known[1], details, { cause: error });
}

function prismaError(error: Prisma.PrismaClientKnownRequestError): ApiError | undefined {
  switch (error.code) {
    case 'P2002':
      // Two requests racing for one name: the database decides, the loser gets 409.
      return new ApiError('ALREADY_EXISTS', 'a resource with this name or path already exists');
    case 'P2003':
      return new ApiError('IN_USE', 'another resource refers to this one or to one it names');
    case 'P2025':
      return new ApiError('NOT_FOUND', 'the resource does not exist (it may just have been deleted)');
    default:
      return undefined;
  }
}

/**
 * The codes of the rules the domain services and the task service enforce,
 * answered as they are, and REDIS_UNAVAILABLE, with which they refuse work
 * that needs Redis while it is unreachable. Any other package's code (an
 * upstream's UNAUTHORIZED, a store's BLOB_UNKNOWN) reaching this edge is a
 * bug, so it stays a 500.
 */
const RULE_CODES: ReadonlySet<string> = new Set<ErrorCode>([
  'VALIDATION_FAILED',
  'NOT_FOUND',
  'VERSION_UNKNOWN',
  'INVALID_REFERENCE',
  'ALREADY_EXISTS',
  'IN_USE',
  'VERSION_PROTECTED',
  'NO_REMOTE',
  'UPSTREAM_NAME_MISSING',
  'TASK_STATE_CONFLICT',
  'REDIS_UNAVAILABLE',
]);

/** Anything thrown, as the ApiError to answer with; unknown errors become INTERNAL_ERROR with their cause kept. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof ZodError) return new ApiError('VALIDATION_FAILED', 'the request is invalid', zodDetails(error, 'body'));
  if (error instanceof CisternError && RULE_CODES.has(error.code)) {
    return new ApiError(error.code as ErrorCode, error.message, detailsOf(error.detail), { cause: error });
  }
  // A rule of tokens the request body broke as a whole: no single field to name.
  if (isCisternError(error, 'TOKEN_INVALID'))
    return new ApiError('VALIDATION_FAILED', error.message, [{ path: 'body', message: error.message }], { cause: error });
  if (error instanceof Prisma.PrismaClientKnownRequestError) {
    const mapped = prismaError(error);
    if (mapped) return mapped;
  }
  return new ApiError('INTERNAL_ERROR', 'internal error', [], { cause: error });
}

/** A domain error's detail, when it names fields, as the API's details. */
function detailsOf(detail: unknown): ErrorDetail[] {
  if (!Array.isArray(detail)) return [];
  return detail.filter((item): item is ErrorDetail => typeof item === 'object' && item !== null && typeof item.message === 'string');
}
