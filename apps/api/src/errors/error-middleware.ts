import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ApiError } from './api-error.ts';
import { toApiError } from './to-api-error.ts';

/** The one place that writes error responses: `{error: {code, message, details}}`. */
export const errorMiddleware: ErrorRequestHandler = (error, req, res, _next) => {
  const apiError = toApiError(error);
  if (apiError.status >= 500) req.log.error({ err: apiError.cause ?? error }, 'request failed');
  if (apiError.code === 'UNAUTHORIZED') res.setHeader('WWW-Authenticate', 'Bearer realm="cistern"');
  res.status(apiError.status).json({ error: { code: apiError.code, message: apiError.message, details: apiError.details } });
};

export const notFoundMiddleware: RequestHandler = (req, _res, next) => {
  next(new ApiError('NOT_FOUND', `no such endpoint: ${req.method} ${req.path}`));
};
