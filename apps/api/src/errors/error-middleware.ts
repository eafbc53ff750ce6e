import type { Logger } from '@cistern/config';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ApiError } from './api-error.ts';
import { toApiError } from './to-api-error.ts';

/** What a 503 asks clients to wait before trying again: Redis reconnects within 2 s of coming back. */
const RETRY_AFTER_SECONDS = 5;

/**
 * The one place that writes error responses: `{error: {code, message, details}}`.
 * Internal errors are logged once here with their cause, method and path (never the query string).
 * A 503 is not: the outage behind it is said once by the process's dependency watch, and each
 * request by its request line. It carries `Retry-After`.
 */
export function errorMiddleware(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const apiError = toApiError(error);
    if (apiError.code === 'INTERNAL_ERROR') logger.error({ err: apiError.cause ?? error, method: req.method, path: req.path }, 'request failed');
    if (apiError.code === 'UNAUTHORIZED') res.setHeader('WWW-Authenticate', 'Bearer realm="cistern"');
    if (apiError.status === 503) res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
    res.status(apiError.status).json({ error: { code: apiError.code, message: apiError.message, details: apiError.details } });
  };
}

export const notFoundMiddleware: RequestHandler = (req, _res, next) => {
  next(new ApiError('NOT_FOUND', `no such endpoint: ${req.method} ${req.path}`));
};
