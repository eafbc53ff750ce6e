import { createHash, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SignJWT } from 'jose';
import { closeServer, listenLocal, makeTempDir, removeDir } from './services.ts';

const run = promisify(execFile);

export interface TokenAccess {
  type?: string;
  name: string;
  actions: string[];
}

/** What the next token requests get instead of a good token, one quirk per request. */
export type TokenQuirk = 'wrong-repo' | 'expired';

export interface TokenServerOptions {
  service?: string;
  issuer?: string;
  /** Users whose Basic credentials the realm accepts; others get 401. Anonymous requests get tokens too. */
  users?: Record<string, string>;
  /** Refuse anonymous requests, as a private registry would. */
  requireAuth?: boolean;
  /** `expires_in` in the JSON answer; the JWT's `exp` follows it. Default 300 s. */
  expiresIn?: number;
  /** Which field carries the JWT: `token` (Distribution's own), `access_token` (OAuth), or both. */
  field?: 'token' | 'access_token' | 'both';
}

export interface TokenRequest {
  service: string | null;
  scopes: string[];
  user: string | null;
}

export interface TokenServer {
  readonly url: string;
  /** The realm to put in the registry's config: `<url>/token`. */
  readonly realm: string;
  readonly service: string;
  readonly issuer: string;
  /** PEM certificate file of the signing key, for Distribution's `rootcertbundle`. */
  readonly certPath: string;
  /** Every request the realm answered, in order. */
  readonly requests: TokenRequest[];
  /** Makes the next requests' tokens bad in the given ways, one per request. */
  misbehave(...quirks: TokenQuirk[]): void;
  /** Signs a token directly (for push helpers and tests). `expiresIn` may be negative. */
  mint(access: TokenAccess[], options?: { expiresIn?: number; subject?: string }): Promise<string>;
  stop(): Promise<void>;
}

/**
 * libtrust's key id, which Distribution 2.8 expects in `kid`: SHA-256 of the
 * DER SubjectPublicKeyInfo, first 30 bytes, base32, grouped by 4 with ':'.
 */
export function libtrustKeyId(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const bytes = createHash('sha256').update(der).digest().subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.match(/.{4}/g)?.join(':') ?? out;
}

/** Scope grammar `repository:<name>:<actions>`; the name may hold ':' only before a port, which names never do here. */
function accessFromScopes(scopes: string[]): TokenAccess[] {
  return scopes.flatMap((scope) => {
    const parts = scope.split(':');
    if (parts.length < 3) return [];
    const actions = (parts.pop() ?? '').split(',').filter(Boolean);
    const type = parts.shift() ?? 'repository';
    return [{ type, name: parts.join(':'), actions }];
  });
}

function basicUser(req: IncomingMessage): { user: string; password: string } | null {
  const header = req.headers.authorization;
  if (!header?.startsWith('Basic ')) return null;
  const decoded = Buffer.from(header.slice(6), 'base64').toString();
  const colon = decoded.indexOf(':');
  return colon < 0 ? null : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** A Docker-Hub-like token realm signing ES256 JWTs that Distribution 2.8.2 accepts. */
export async function startTokenServer(options: TokenServerOptions = {}): Promise<TokenServer> {
  const service = options.service ?? 'test-registry';
  const issuer = options.issuer ?? 'test-issuer';
  const expiresIn = options.expiresIn ?? 300;
  const dir = await makeTempDir('token');
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  await writeFile(keyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  await run('openssl', ['req', '-new', '-x509', '-key', keyPath, '-subj', '/CN=cistern-test-token', '-days', '2', '-out', certPath]);
  const kid = libtrustKeyId(publicKey);
  const quirks: TokenQuirk[] = [];
  const requests: TokenRequest[] = [];

  const mint = async (access: TokenAccess[], opts: { expiresIn?: number; subject?: string } = {}): Promise<string> => {
    const now = Math.floor(Date.now() / 1000);
    const lifetime = opts.expiresIn ?? expiresIn;
    // An expired token must be older than Distribution's 60 s leeway.
    const exp = lifetime < 0 ? now + lifetime - 120 : now + lifetime;
    return new SignJWT({ access: access.map((a) => ({ type: a.type ?? 'repository', name: a.name, actions: a.actions })) })
      .setProtectedHeader({ typ: 'JWT', alg: 'ES256', kid })
      .setIssuer(issuer)
      .setAudience(service)
      .setSubject(opts.subject ?? '')
      .setExpirationTime(exp)
      .setNotBefore(Math.min(now, exp) - 300)
      .setIssuedAt(Math.min(now, exp) - 300)
      .setJti(randomUUID())
      .sign(privateKey);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/token') {
      res.writeHead(404).end();
      return;
    }
    const creds = basicUser(req);
    const scopes = url.searchParams
      .getAll('scope')
      .flatMap((s) => s.split(' '))
      .filter(Boolean);
    requests.push({ service: url.searchParams.get('service'), scopes, user: creds?.user ?? null });
    const known = creds !== null && options.users?.[creds.user] === creds.password;
    if ((creds !== null && !known) || (creds === null && options.requireAuth)) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"incorrect username or password"}');
      return;
    }
    let access = accessFromScopes(scopes);
    let lifetime = expiresIn;
    const quirk = quirks.shift();
    if (quirk === 'wrong-repo') access = access.map((a) => ({ ...a, name: `${a.name}-other` }));
    if (quirk === 'expired') lifetime = -3600;
    const token = await mint(access, { expiresIn: lifetime, subject: creds?.user ?? '' });
    const field = options.field ?? 'token';
    const body: Record<string, unknown> = { expires_in: expiresIn, issued_at: new Date().toISOString() };
    if (field !== 'access_token') body.token = token;
    if (field !== 'token') body.access_token = token;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => res.writeHead(500).end(String(error)));
  });
  const url = await listenLocal(server);
  return {
    url,
    realm: `${url}/token`,
    service,
    issuer,
    certPath,
    requests,
    misbehave: (...more) => void quirks.push(...more),
    mint,
    async stop() {
      await closeServer(server);
      await removeDir(dir);
    },
  };
}
