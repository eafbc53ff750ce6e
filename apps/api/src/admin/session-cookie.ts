import type { Request, Response } from 'express';
import { parseCookie } from 'cookie';

/** Sent back only to the admin pages: the API itself takes bearer tokens, never this cookie. */
const COOKIE = 'cistern_admin_session';
const COOKIE_PATH = '/admin';

/** Where the admin session cookie is Secure: a request over https, or an installation whose PUBLIC_URL is https (behind a TLS proxy). */
export interface SessionCookieOptions {
  publicUrlIsHttps: boolean;
}

function attributes(req: Request, options: SessionCookieOptions) {
  // SameSite=Strict keeps the browser from sending it on any cross-site request: the login
  // form (the only write the admin pages take) needs no CSRF token beyond that.
  return { httpOnly: true, sameSite: 'strict' as const, secure: req.secure || options.publicUrlIsHttps, path: COOKIE_PATH };
}

/** The session value the request carries, if any. */
export function readSessionCookie(req: Request): string | undefined {
  return parseCookie(req.headers.cookie ?? '')[COOKIE];
}

export function setSessionCookie(req: Request, res: Response, options: SessionCookieOptions, value: string, expiresAt: Date): void {
  res.cookie(COOKIE, value, { ...attributes(req, options), expires: expiresAt });
}

export function clearSessionCookie(req: Request, res: Response, options: SessionCookieOptions): void {
  res.clearCookie(COOKIE, attributes(req, options));
}
