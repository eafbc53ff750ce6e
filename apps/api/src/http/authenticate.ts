import type { TokenService } from '@cistern/auth';
import { authorizationCredentials } from '@cistern/config';
import type { RequestHandler } from 'express';
import { ApiError } from '../errors/api-error.ts';

/** RFC 6750's b64token: what an issued token is made of. */
const TOKEN = /^[A-Za-z0-9._~+/=-]+$/;

/**
 * Every /api call needs an admin token: pull tokens are for the registry
 * (`docker login`), so they get 403 here, not 401.
 */
export function authenticate(tokens: Pick<TokenService, 'verify'>): RequestHandler {
  return async (req, res, next) => {
    const header = req.get('authorization');
    if (!header) throw new ApiError('UNAUTHORIZED', 'send Authorization: Bearer <token>');
    const token = authorizationCredentials(header, 'bearer');
    if (!token || !TOKEN.test(token)) throw new ApiError('UNAUTHORIZED', 'the Authorization header must be "Bearer <token>"');
    const principal = await tokens.verify(token);
    if (!principal) throw new ApiError('UNAUTHORIZED', 'the token is unknown, revoked or expired');
    if (principal.scope !== 'admin') {
      throw new ApiError('FORBIDDEN', `token "${principal.name}" is a pull token; the management API needs an admin token`);
    }
    res.locals.principal = principal;
    next();
  };
}
