import type { Logger } from '@cistern/config';
import { methodLabel, statusClass, type RequestMetrics } from '@cistern/metrics';
import type { Request, RequestHandler, Response } from 'express';

/** Probes and scrapes: logged at debug only and never counted, or they would drown the traffic they watch. */
const PROBE_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

export interface ObserveRequestsOptions {
  /** `api` or `registry`: the `app` field of every line. */
  app: string;
  logger: Logger;
  /** The request's route group, from a bounded set: it is a metric label. Called once, on arrival. */
  routeOf(req: Request): string;
  metrics: RequestMetrics;
}

/**
 * Mount first. Writes one JSON line per request when its response ends or
 * its client leaves, at `info`: `{app, method, route, status, ms, bytes}`
 * (`status` absent when no status was sent, `aborted: true` when the client
 * left first), and counts it in `metrics`. Nothing else of the request is
 * logged: headers carry credentials and the query string carries them too
 * (`/token?account=...`); the route group stands for the path.
 */
export function observeRequests({ app, logger, routeOf, metrics }: ObserveRequestsOptions): RequestHandler {
  const log = logger.child({ app });
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    const probe = PROBE_PATHS.has(req.path);
    const route = probe ? req.path : routeOf(req);
    const sent = countBodyBytes(req, res);
    // 'close' comes once whichever way the response ends: after 'finish', or when the client left first.
    res.once('close', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const status = res.headersSent ? res.statusCode : undefined;
      const line = {
        method: req.method,
        route,
        ...(status === undefined ? {} : { status }),
        ms: Math.round(seconds * 1e4) / 10,
        bytes: sent(),
        ...(res.writableFinished ? {} : { aborted: true }),
      };
      if (probe) {
        log.debug(line, 'request');
        return;
      }
      log.info(line, 'request');
      const method = methodLabel(req.method);
      metrics.requests.inc({ route, method, status_class: statusClass(status) });
      metrics.duration.observe({ route, method }, seconds);
      metrics.sentBytes?.inc({ route }, line.bytes);
    });
    next();
  };
}

/**
 * Counts the body bytes written to `res` (streams piped into it included);
 * a HEAD response sends none whatever is written. Node keeps no such count
 * per response: the socket's counts span every response of a keep-alive
 * connection, headers included.
 */
function countBodyBytes(req: Request, res: Response): () => number {
  let bytes = 0;
  if (req.method === 'HEAD') return () => bytes;
  const count = (chunk: unknown, encoding: unknown) => {
    if (typeof chunk === 'string') bytes += Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
    else if (chunk instanceof Uint8Array) bytes += chunk.byteLength;
  };
  const write = res.write.bind(res) as (...args: unknown[]) => boolean;
  const end = res.end.bind(res) as (...args: unknown[]) => Response;
  res.write = ((...args: unknown[]) => {
    count(args[0], args[1]);
    return write(...args);
  }) as Response['write'];
  res.end = ((...args: unknown[]) => {
    if (typeof args[0] !== 'function') count(args[0], args[1]);
    return end(...args);
  }) as Response['end'];
  return () => bytes;
}
