import express, { type RequestHandler } from 'express';
import { ApiError } from '../errors/api-error.ts';
import { bodyError } from '../errors/to-api-error.ts';

/**
 * Refuses a path that does not percent-decode to UTF-8 (`%zz`, `%C3%28`)
 * before the router decodes its parameters and throws.
 */
export const decodablePath: RequestHandler = (req, _res, next) => {
  try {
    decodeURIComponent(req.path);
  } catch {
    throw new ApiError('MALFORMED_REQUEST', 'the request path is not percent-encoded UTF-8', [{ path: 'path', message: 'has a malformed percent-escape' }]);
  }
  next();
};

/** A body parser whose every failure (size, encoding, charset, syntax) is the client's body, so it leaves as a 4xx ApiError. */
function clientBody(parse: RequestHandler): RequestHandler {
  return (req, res, next) => {
    parse(req, res, (error?: unknown) => next(error === undefined ? undefined : bodyError(error)));
  };
}

/** express.json inflating gzip, deflate and br bodies, up to `limitBytes`. */
export function jsonBody(limitBytes: number): RequestHandler {
  return clientBody(express.json({ limit: limitBytes }));
}

/** An HTML form's body (`application/x-www-form-urlencoded`), up to `limitBytes`. */
export function formBody(limitBytes: number): RequestHandler {
  return clientBody(express.urlencoded({ extended: false, limit: limitBytes }));
}
