import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { OCI_INDEX } from '../push.ts';
import type { RegistryContent } from './content.ts';
import type { OriginHandler } from './origin.ts';

/** A `/v2/` request split into what it names. */
export type Route = { verb: 'ping' } | { verb: 'tags' | 'manifests' | 'blobs' | 'referrers'; name: string; reference: string };

/** Splits `/v2/<name>/<verb>/<reference>` at the last verb, as Distribution does; undefined for other paths. */
export function parseRoute(path: string): Route | undefined {
  if (path === '/v2/' || path === '/v2') return { verb: 'ping' };
  const match = /^\/v2\/(.+)\/(manifests|blobs|tags|referrers)\/([^/]+)$/.exec(path);
  if (!match) return undefined;
  const [, name = '', verb = '', reference = ''] = match;
  if (verb === 'tags') return reference === 'list' ? { verb, name, reference } : undefined;
  return { verb: verb as 'manifests' | 'blobs' | 'referrers', name, reference };
}

/** Writes a Distribution error body. */
export function sendError(res: ServerResponse, status: number, code: string, headers: OutgoingHttpHeaders = {}): void {
  res.writeHead(status, { ...headers, 'content-type': 'application/json' });
  res.end(JSON.stringify({ errors: [{ code, message: code.toLowerCase().replaceAll('_', ' '), detail: null }] }));
}

/** One page of a tag list and the `Link` target of the next, if any. */
export type TagPaging = (tags: string[], url: URL) => { page: string[]; next?: string };

/** Distribution's paging: `n` limits (all tags without it), `last` is exclusive, Link repeats both. */
export const pageByLast: TagPaging = (tags, url) => {
  const last = url.searchParams.get('last');
  const from = last === null ? tags : tags.filter((t) => t > last);
  const n = url.searchParams.has('n') ? Number(url.searchParams.get('n')) : from.length;
  const page = from.slice(0, n);
  if (page.length === 0 || page.length === from.length) return { page };
  return { page, next: `${url.pathname}?n=${n}&last=${encodeURIComponent(page.at(-1) ?? '')}` };
};

export interface RegistryBehaviour {
  content: RegistryContent;
  /** The content repository a client's name means here; undefined when it means none. Default: the name itself. */
  resolve?: (name: string) => string | undefined;
  /** Checks credentials: a `WWW-Authenticate` value to answer 401 with, or undefined to serve the request. */
  guard?: (req: IncomingMessage, route: Route) => string | undefined;
  /** Runs after the guard; answers the request itself when it returns true (a rate limit). */
  before?: (req: IncomingMessage, res: ServerResponse, route: Route) => boolean;
  /** Headers added to manifest responses. */
  manifestHeaders?: (req: IncomingMessage) => OutgoingHttpHeaders;
  /** Send `Docker-Content-Digest` on manifest HEAD and GET. Default true. */
  digestHeader?: boolean;
  /** Serve the Referrers API; without it referrers answer 404 and clients use the tag schema. */
  referrersApi?: boolean;
  tagPaging?: TagPaging;
  /** Where a blob GET is redirected, with which status; undefined serves the blob here. */
  blobRedirect?: (name: string, digest: string) => { status: 302 | 307; location: string } | undefined;
}

/** The OCI Distribution read API (tags, manifests, blobs, referrers) over `content`, shaped by a behaviour. */
export function registryHandler(behaviour: RegistryBehaviour): OriginHandler {
  const { content } = behaviour;
  const resolve = behaviour.resolve ?? ((name: string) => name);
  const paging = behaviour.tagPaging ?? pageByLast;

  return (req, res, url) => {
    const head = req.method === 'HEAD';
    const route = parseRoute(url.pathname);
    if (!route) return sendError(res, 404, 'NAME_UNKNOWN');
    const challenge = behaviour.guard?.(req, route);
    if (challenge !== undefined) return sendError(res, 401, 'UNAUTHORIZED', { 'www-authenticate': challenge });
    if (behaviour.before?.(req, res, route)) return;
    if (route.verb === 'ping') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      return;
    }
    const name = resolve(route.name);
    if (name === undefined || !content.has(name)) return sendError(res, 404, 'NAME_UNKNOWN');
    switch (route.verb) {
      case 'tags': {
        const { page, next } = paging(content.tags(name) ?? [], url);
        res.writeHead(200, { 'content-type': 'application/json', ...(next ? { link: `<${next}>; rel="next"` } : {}) });
        res.end(JSON.stringify({ name: route.name, tags: page }));
        return;
      }
      case 'referrers': {
        if (!behaviour.referrersApi) {
          res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n');
          return;
        }
        if (!/^sha(256|512):[a-f0-9]+$/.test(route.reference)) return sendError(res, 400, 'DIGEST_INVALID');
        const artifactType = url.searchParams.get('artifactType') ?? undefined;
        const body = content.referrersIndex(name, route.reference, artifactType);
        res.writeHead(200, { 'content-type': OCI_INDEX, 'content-length': body.length, ...(artifactType ? { 'oci-filters-applied': 'artifactType' } : {}) });
        res.end(head ? undefined : body);
        return;
      }
      case 'manifests': {
        const manifest = content.manifest(name, route.reference);
        if (!manifest) return sendError(res, 404, 'MANIFEST_UNKNOWN');
        res.writeHead(200, {
          ...behaviour.manifestHeaders?.(req),
          'content-type': manifest.mediaType,
          'content-length': manifest.bytes.length,
          ...(behaviour.digestHeader === false ? {} : { 'docker-content-digest': manifest.digest }),
        });
        res.end(head ? undefined : manifest.bytes);
        return;
      }
      case 'blobs': {
        const blob = content.blob(name, route.reference);
        if (!blob) return sendError(res, 404, 'BLOB_UNKNOWN');
        const redirect = head ? undefined : behaviour.blobRedirect?.(route.name, route.reference);
        if (redirect) {
          res.writeHead(redirect.status, { location: redirect.location }).end();
          return;
        }
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': blob.length, 'docker-content-digest': route.reference });
        res.end(head ? undefined : blob);
        return;
      }
    }
  };
}
