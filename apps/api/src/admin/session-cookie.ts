import type { Request, Response } from 'express';
import { parseCookie } from 'cookie';

/** Sent back only to the admin pages: the API itself takes bearer tokens, never this cookie. */
const COOKIE = 'cistern_admin_session';
const COOKIE_PATH = '/admin';

/**
 * Whether the browser reached the API over https: directly, or through a
 * TLS proxy that says so in `X-Forwarded-Proto`. A client that claims https
 * over plain http only gets a cookie its browser will not send back, so the
 * header needs no trust. (PUBLIC_URL is the registry's address, not the API's.)
 */
function overHttps(req: Request): boolean {
  return req.secure || req.get('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase() === 'https';
}

function attributes(req: Request) {
  // SameSite=Strict keeps the browser from sending it on any cross-site request: the login
  // form (the only write the admin pages take) needs no CSRF token beyond that.
  return { httpOnly: true, sameSite: 'strict' as const, secure: overHttps(req), path: COOKIE_PATH };
}

/** The session value the request carries, if any. */
export function readSessionCookie(req: Request): string | undefined {
  return parseCookie(req.headers.cookie ?? '')[COOKIE];
}

/** Sets the session cookie (HttpOnly, SameSite=Strict, Path=/admin; Secure when the browser came over https) until `expiresAt`. */
export function setSessionCookie(req: Request, res: Response, value: string, expiresAt: Date): void {
  res.cookie(COOKIE, value, { ...attributes(req), expires: expiresAt });
}

export function clearSessionCookie(req: Request, res: Response): void {
  res.clearCookie(COOKIE, attributes(req));
}
