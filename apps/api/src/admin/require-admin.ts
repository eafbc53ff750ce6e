import type { AdminSessions, TokenService } from '@cistern/auth';
import type { RequestHandler } from 'express';
import { ApiError } from '../errors/api-error.ts';
import { authenticate } from '../http/authenticate.ts';
import { clearSessionCookie, readSessionCookie } from './session-cookie.ts';

export const LOGIN_PATH = '/admin/login';

/**
 * Lets through an admin: one with a session cookie from the login page, or
 * (for scripts) `Authorization: Bearer <admin token>`, checked as the API
 * checks it. Anyone else is sent to the login page when they asked for a page,
 * or answered 401 when they called the dashboard's JSON API (`apiPath`).
 */
export function requireAdmin(options: {
  sessions: Pick<AdminSessions, 'check'>;
  tokens: Pick<TokenService, 'verify'>;
  /** Requests under this path (relative to where the handler is mounted) are API calls, not pages. */
  apiPath: string;
}): RequestHandler {
  const bearer = authenticate(options.tokens);
  return async (req, res, next) => {
    if (req.get('authorization') !== undefined) return bearer(req, res, next);
    const value = readSessionCookie(req);
    const principal = value === undefined ? null : await options.sessions.check(value);
    if (principal) {
      res.locals.principal = principal;
      return next();
    }
    // Expired, revoked or forged: the browser should stop sending it.
    if (value !== undefined) clearSessionCookie(req, res);
    if (req.path.startsWith(options.apiPath) || (req.method !== 'GET' && req.method !== 'HEAD')) {
      throw new ApiError('UNAUTHORIZED', `log in at ${LOGIN_PATH}, or send Authorization: Bearer <admin token>`);
    }
    res.redirect(303, LOGIN_PATH);
  };
}
