import type { Logger } from '@cistern/config';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ApiError } from './api-error.ts';
import { toApiError } from './to-api-error.ts';

/**
 * The one place that writes error responses: `{error: {code, message, details}}`.
 * Internal errors are logged once here with their cause, method and path (never the query string).
 */
export function errorMiddleware(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const apiError = toApiError(error);
    if (apiError.status >= 500) logger.error({ err: apiError.cause ?? error, method: req.method, path: req.path }, 'request failed');
    if (apiError.code === 'UNAUTHORIZED') res.setHeader('WWW-Authenticate', 'Bearer realm="cistern"');
    res.status(apiError.status).json({ error: { code: apiError.code, message: apiError.message, details: apiError.details } });
  };
}

export const notFoundMiddleware: RequestHandler = (req, _res, next) => {
  next(new ApiError('NOT_FOUND', `no such endpoint: ${req.method} ${req.path}`));
};
