/**
 * The credentials of an `Authorization: <scheme> <credentials>` header when
 * its scheme is `scheme`, compared case-insensitively as RFC 9110 §11.1 asks
 * (`bearer x` is `Bearer x`); undefined for another scheme or no header.
 */
export function authorizationCredentials(header: string | undefined, scheme: 'basic' | 'bearer'): string | undefined {
  if (!header) return undefined;
  const space = header.indexOf(' ');
  if (space < 0 || header.slice(0, space).toLowerCase() !== scheme) return undefined;
  return header.slice(space + 1).trim();
}
