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

/**
 * express.json inflating gzip, deflate and br bodies, up to `limitBytes`;
 * whatever it fails on is the client's body, so it leaves as a 4xx ApiError.
 */
export function jsonBody(limitBytes: number): RequestHandler {
  const parse = express.json({ limit: limitBytes });
  return (req, res, next) => {
    parse(req, res, (error?: unknown) => next(error === undefined ? undefined : bodyError(error)));
  };
}
