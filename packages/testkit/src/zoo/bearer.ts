import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Route } from './registry.ts';

export interface BearerRealmOptions {
  /** The realm URL that challenges name (where `issue` is mounted). */
  realm: string;
  service: string;
  /** Whether a repository scope may be granted; a refused scope yields a token without that access, as Docker Hub does. */
  grants: (name: string) => boolean;
  /** Seconds a token lives (`expires_in`). Default 300. */
  expiresIn?: number;
}

/** A Docker-style token realm handing out anonymous pull tokens, and the guard that checks them. */
export interface BearerRealm {
  readonly realm: string;
  readonly service: string;
  /** Answers a token request (`GET <realm>?service=&scope=`). */
  issue(req: IncomingMessage, res: ServerResponse, url: URL): void;
  /** A registry guard: the challenge for requests whose token does not grant pull on the route's name. */
  guard(req: IncomingMessage, route: Route): string | undefined;
}

const SCOPE = /^repository:(.+):([a-z*,]+)$/;

/** Creates a realm whose tokens are opaque strings it remembers, with the repositories they grant. */
export function createBearerRealm(options: BearerRealmOptions): BearerRealm {
  const expiresIn = options.expiresIn ?? 300;
  const tokens = new Map<string, { names: Set<string>; expires: number }>();
  const challenge = (name: string | undefined, error?: string): string =>
    `Bearer realm="${options.realm}",service="${options.service}"${name ? `,scope="repository:${name}:pull"` : ''}${error ? `,error="${error}"` : ''}`;

  return {
    realm: options.realm,
    service: options.service,
    issue(_req, res, url) {
      const names = new Set<string>();
      for (const scope of url.searchParams.getAll('scope').flatMap((s) => s.split(' '))) {
        const [, name, actions = ''] = SCOPE.exec(scope) ?? [];
        if (name && actions.split(',').includes('pull') && options.grants(name)) names.add(name);
      }
      const token = randomBytes(24).toString('base64url');
      tokens.set(token, { names, expires: Date.now() + expiresIn * 1000 });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ token, access_token: token, expires_in: expiresIn, issued_at: new Date().toISOString() }));
    },
    guard(req, route) {
      const name = route.verb === 'ping' ? undefined : route.name;
      const header = req.headers.authorization ?? '';
      if (!header.startsWith('Bearer ')) return challenge(name);
      const grant = tokens.get(header.slice('Bearer '.length));
      if (!grant || grant.expires < Date.now()) return challenge(name, 'invalid_token');
      if (name !== undefined && !grant.names.has(name)) return challenge(name, 'insufficient_scope');
      return undefined;
    },
  };
}
