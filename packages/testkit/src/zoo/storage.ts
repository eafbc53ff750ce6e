import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { RegistryContent } from './content.ts';
import { startOrigin, type Origin } from './origin.ts';

/** An object store on its own origin that serves blobs only through signed URLs (GCS, S3, a CDN). */
export interface SignedStorage {
  readonly origin: Origin;
  /** A URL for a blob that stays valid for ten minutes, signed in its query string. */
  sign(digest: string): string;
  /** Requests that arrived carrying an Authorization header: credentials that leaked here. */
  leaks(): number;
}

const LIFETIME_SECONDS = 600;

/** An object store's XML error, as S3 and GCS write them. */
function refuse(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`);
}

/**
 * Starts a signed-URL store over `content`. Like S3 and GCS it refuses a
 * request that carries an `Authorization` header next to a query signature
 * (400), and a missing, wrong or expired signature (403), so a client that
 * forwards registry credentials here fails loudly.
 */
export async function startSignedStorage(content: RegistryContent): Promise<SignedStorage> {
  const key = randomBytes(32);
  const signature = (path: string, expires: string): Buffer => createHmac('sha256', key).update(`${path}\n${expires}`).digest();
  const origin = await startOrigin((req, res, url) => {
    if (req.headers.authorization !== undefined) return refuse(res, 400, 'InvalidArgument', 'Only one auth mechanism allowed');
    const expires = url.searchParams.get('X-Expires') ?? '';
    const given = Buffer.from(url.searchParams.get('X-Signature') ?? '', 'hex');
    const wanted = signature(url.pathname, expires);
    if (given.length !== wanted.length || !timingSafeEqual(given, wanted) || Number(expires) * 1000 < Date.now()) {
      return refuse(res, 403, 'SignatureDoesNotMatch', 'The request signature does not match');
    }
    const blob = content.anyBlob(url.pathname.split('/').at(-1) ?? '');
    if (!blob) return refuse(res, 404, 'NoSuchKey', 'The specified key does not exist');
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': blob.length });
    res.end(req.method === 'HEAD' ? undefined : blob);
  }, 'blob');
  return {
    origin,
    sign(digest) {
      const path = `/bucket/blobs/${digest}`;
      const expires = String(Math.floor(Date.now() / 1000) + LIFETIME_SECONDS);
      return `${origin.url}${path}?X-Expires=${expires}&X-Signature=${signature(path, expires).toString('hex')}`;
    },
    leaks: () => origin.requests.filter((r) => r.authorization !== undefined).length,
  };
}
