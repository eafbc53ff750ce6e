import { isCisternError } from '@cistern/errors';
import { toRegistryError } from '@cistern/registry-core';
import type { ErrorRequestHandler } from 'express';
import type { Logger } from '@cistern/config';

/**
 * The one place a RegistryError becomes an HTTP response: status from the
 * code table, extra headers (challenges, Content-Range), and the
 * Distribution API's `{"errors":[...]}` body. Internal errors are logged
 * once here with their cause and the path, never the query string (a token
 * request's carries the account); clients see only the code. An unreachable
 * Redis is not: the process's dependency watch says so once, and each
 * request its request line.
 */
export function sendError(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const failure = toRegistryError(error);
    if (failure.status >= 500 && !isCisternError(failure.cause, 'REDIS_UNAVAILABLE'))
      logger.error({ err: failure.cause ?? failure, method: req.method, path: req.path }, 'registry request failed');
    if (res.headersSent) {
      // The body was already streaming: cutting the connection is the only honest signal left.
      res.destroy(failure);
      return;
    }
    res.status(failure.status).set(failure.headers).json(failure.toBody());
  };
}
