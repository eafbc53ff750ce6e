import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { pathKind } from '../fault-proxy.ts';
import { closeServer, listenLocal } from '../services.ts';

/** What a registry client asked for, as the zoo counts it. */
export type RequestKind = 'ping' | 'tags' | 'manifest-head' | 'manifest-get' | 'blob' | 'referrers' | 'token' | 'other';

export type RequestCounts = Record<RequestKind, number>;

export interface LoggedRequest {
  method: string;
  /** Path and query as received. */
  url: string;
  kind: RequestKind;
  authorization: string | undefined;
  /** The status it was answered with, once answered. */
  status?: number;
}

/** Handles one request; `url` is parsed against the origin. */
export type OriginHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => void;

/** One HTTP origin (a 127.0.0.1 port) of a zoo member, logging every request it receives. */
export interface Origin {
  readonly url: string;
  readonly host: string;
  readonly requests: LoggedRequest[];
  counts(): RequestCounts;
  stop(): Promise<void>;
}

/** The kind of a request by its method and path (`kind` overrides it for single-purpose origins). */
export function requestKind(method: string, path: string): RequestKind {
  const kind = pathKind(path);
  if (kind === 'manifest') return method === 'HEAD' ? 'manifest-head' : 'manifest-get';
  if (kind === 'upload') return 'other';
  return kind;
}

export function emptyCounts(): RequestCounts {
  return { ping: 0, tags: 0, 'manifest-head': 0, 'manifest-get': 0, blob: 0, referrers: 0, token: 0, other: 0 };
}

export function countRequests(requests: Iterable<LoggedRequest>, into: RequestCounts = emptyCounts()): RequestCounts {
  for (const request of requests) into[request.kind] += 1;
  return into;
}

/** Starts an origin on a free 127.0.0.1 port. */
export async function startOrigin(handle: OriginHandler, kind?: RequestKind): Promise<Origin> {
  const requests: LoggedRequest[] = [];
  const server = createServer((req, res) => {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const logged: LoggedRequest = { method, url: req.url ?? '/', kind: kind ?? requestKind(method, url.pathname), authorization: req.headers.authorization };
    requests.push(logged);
    res.on('finish', () => (logged.status = res.statusCode));
    req.resume();
    handle(req, res, url);
  });
  const url = await listenLocal(server);
  return {
    url,
    host: new URL(url).host,
    requests,
    counts: () => countRequests(requests),
    stop: () => closeServer(server),
  };
}
