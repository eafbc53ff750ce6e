import { createServer as createHttpsServer } from 'node:https';
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { digestOf, type DigestAlgorithm } from './push.ts';
import { closeServer, listenLocal } from './services.ts';

interface StoredManifest {
  bytes: Buffer;
  mediaType: string;
  digest: string;
}

interface Repo {
  manifests: Map<string, StoredManifest>;
  tags: Map<string, string>;
  /** Tag names listed without manifests behind them (paging tests). */
  extraTags: Set<string>;
  blobs: Map<string, Buffer>;
}

export interface SyntheticRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
}

/** Handles a request itself when it returns true; runs before the built-in routes. */
export type Intercept = (req: IncomingMessage, res: ServerResponse) => boolean;

export interface SyntheticOptions {
  /** Tag-list page size when the client gives no `n` (Docker Hub pages at 100). Default: unpaged. */
  tagPageSize?: number;
  /** Serve the Referrers API; without it referrers answer 404 as Distribution 2.8 does. */
  referrersApi?: boolean;
  /** Answer blob GETs with a 307 to `<redirectBlobsTo>/cdn/<digest>` (a CDN on another origin). */
  redirectBlobsTo?: string;
  /** Require these Basic credentials on `/v2/` routes (the CDN path never asks). */
  basicAuth?: { username: string; password: string };
  /** Serve HTTPS with this key and certificate (see `makeTestCertificate`). */
  tls?: { key: string; cert: string };
}

export interface SyntheticUpstream {
  readonly url: string;
  readonly host: string;
  readonly requests: SyntheticRequest[];
  /** Headers added to every response, e.g. `ratelimit-remaining`. */
  readonly headers: OutgoingHttpHeaders;
  /** Serves the bytes under their digest in `algorithm`; returns it. */
  addBlob(repository: string, bytes: Uint8Array, algorithm?: DigestAlgorithm): string;
  /** Stores manifest bytes exactly under any media type, served under their digest in `algorithm`; returns it. */
  addManifest(repository: string, bytes: Uint8Array, mediaType: string, tags?: string[], algorithm?: DigestAlgorithm): string;
  /** Adds tag names to a repository's list without content. */
  addTags(repository: string, tags: Iterable<string>): void;
  intercept(handler: Intercept | undefined): void;
  stop(): Promise<void>;
}

/** A small registry that serves whatever it is given byte-exact, for what Distribution refuses to store. */
export async function startSyntheticUpstream(options: SyntheticOptions = {}): Promise<SyntheticUpstream> {
  const repos = new Map<string, Repo>();
  const requests: SyntheticRequest[] = [];
  const extraHeaders: OutgoingHttpHeaders = {};
  let interceptor: Intercept | undefined;

  const repo = (name: string): Repo => {
    let r = repos.get(name);
    if (!r) {
      r = { manifests: new Map(), tags: new Map(), extraTags: new Set(), blobs: new Map() };
      repos.set(name, r);
    }
    return r;
  };
  const error = (res: ServerResponse, status: number, code: string): void => {
    res.writeHead(status, { ...extraHeaders, 'content-type': 'application/json' });
    res.end(JSON.stringify({ errors: [{ code, message: code.toLowerCase(), detail: null }] }));
  };
  const findBlob = (digest: string): Buffer | undefined => {
    for (const r of repos.values()) {
      const blob = r.blobs.get(digest);
      if (blob) return blob;
    }
    return undefined;
  };

  const tagsList = (res: ServerResponse, name: string, r: Repo, query: URLSearchParams): void => {
    const all = [...new Set([...r.tags.keys(), ...r.extraTags])].sort();
    const n = query.has('n') ? Number(query.get('n')) : (options.tagPageSize ?? all.length);
    const last = query.get('last');
    const from = last === null ? all : all.filter((t) => t > last);
    const page = from.slice(0, n);
    const headers: OutgoingHttpHeaders = { ...extraHeaders, 'content-type': 'application/json' };
    if (page.length < from.length && page.length > 0) {
      headers.link = `</v2/${name}/tags/list?n=${n}&last=${encodeURIComponent(page.at(-1) ?? '')}>; rel="next"`;
    }
    res.writeHead(200, headers).end(JSON.stringify({ name, tags: page }));
  };

  const referrers = (res: ServerResponse, r: Repo, digest: string): void => {
    const manifests = [...r.manifests.values()].flatMap((m) => {
      const parsed = JSON.parse(m.bytes.toString()) as {
        subject?: { digest?: string };
        artifactType?: string;
        config?: { mediaType?: string };
        annotations?: Record<string, string>;
      };
      if (parsed.subject?.digest !== digest) return [];
      const artifactType = parsed.artifactType ?? parsed.config?.mediaType;
      return [
        {
          mediaType: m.mediaType,
          digest: m.digest,
          size: m.bytes.length,
          ...(artifactType ? { artifactType } : {}),
          ...(parsed.annotations ? { annotations: parsed.annotations } : {}),
        },
      ];
    });
    const index = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests };
    res.writeHead(200, { ...extraHeaders, 'content-type': 'application/vnd.oci.image.index.v1+json' }).end(JSON.stringify(index));
  };

  const route = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname;
    const head = req.method === 'HEAD';
    if (path.startsWith('/cdn/')) {
      const blob = findBlob(path.slice(5));
      if (!blob) return error(res, 404, 'BLOB_UNKNOWN');
      res.writeHead(200, { 'content-length': blob.length, 'content-type': 'application/octet-stream' });
      res.end(head ? undefined : blob);
      return;
    }
    if (options.basicAuth) {
      const wanted = `Basic ${Buffer.from(`${options.basicAuth.username}:${options.basicAuth.password}`).toString('base64')}`;
      if (req.headers.authorization !== wanted) {
        res.setHeader('www-authenticate', 'Basic realm="synthetic"');
        return error(res, 401, 'UNAUTHORIZED');
      }
    }
    if (path === '/v2/' || path === '/v2') {
      res.writeHead(200, { ...extraHeaders, 'content-type': 'application/json' }).end('{}');
      return;
    }
    const match = /^\/v2\/(.+)\/(manifests|blobs|tags|referrers)\/([^/]+)$/.exec(path);
    if (!match) return error(res, 404, 'NAME_UNKNOWN');
    const [, name = '', verb, ref = ''] = match;
    const r = repos.get(name);
    if (!r) return error(res, 404, 'NAME_UNKNOWN');
    if (verb === 'tags' && ref === 'list') return tagsList(res, name, r, url.searchParams);
    if (verb === 'referrers') {
      if (!options.referrersApi) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n');
        return;
      }
      return referrers(res, r, ref);
    }
    if (verb === 'manifests') {
      const manifest = r.manifests.get(r.tags.get(ref) ?? ref);
      if (!manifest) return error(res, 404, 'MANIFEST_UNKNOWN');
      res.writeHead(200, {
        ...extraHeaders,
        'content-type': manifest.mediaType,
        'content-length': manifest.bytes.length,
        'docker-content-digest': manifest.digest,
      });
      res.end(head ? undefined : manifest.bytes);
      return;
    }
    const blob = r.blobs.get(ref);
    if (!blob) return error(res, 404, 'BLOB_UNKNOWN');
    if (options.redirectBlobsTo && !head) {
      res.writeHead(307, { ...extraHeaders, location: `${options.redirectBlobsTo}/cdn/${ref}` }).end();
      return;
    }
    res.writeHead(200, {
      ...extraHeaders,
      'content-type': 'application/octet-stream',
      'content-length': blob.length,
      'docker-content-digest': ref,
    });
    res.end(head ? undefined : blob);
  };

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    requests.push({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers });
    req.resume();
    if (interceptor?.(req, res)) return;
    route(req, res);
  };
  const server = options.tls ? createHttpsServer(options.tls, handler) : createServer(handler);
  const url = (await listenLocal(server)).replace('http:', options.tls ? 'https:' : 'http:');
  return {
    url,
    host: new URL(url).host,
    requests,
    headers: extraHeaders,
    addBlob(repository, bytes, algorithm = 'sha256') {
      const digest = digestOf(bytes, algorithm);
      repo(repository).blobs.set(digest, Buffer.from(bytes));
      return digest;
    },
    addManifest(repository, bytes, mediaType, tags = [], algorithm = 'sha256') {
      const digest = digestOf(bytes, algorithm);
      const r = repo(repository);
      r.manifests.set(digest, { bytes: Buffer.from(bytes), mediaType, digest });
      for (const tag of tags) r.tags.set(tag, digest);
      return digest;
    },
    addTags(repository, tags) {
      const r = repo(repository);
      for (const tag of tags) r.extraTags.add(tag);
    },
    intercept(handler) {
      interceptor = handler;
    },
    stop: () => closeServer(server),
  };
}
