import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { Transform, pipeline, type TransformCallback } from 'node:stream';
import { closeServer, listenLocal } from './services.ts';

export type PathKind = 'ping' | 'manifest' | 'blob' | 'upload' | 'tags' | 'referrers' | 'token' | 'other';

/** The kind of a registry request path, for counters. */
export function pathKind(path: string): PathKind {
  const p = path.split('?')[0] ?? '';
  if (p === '/v2/' || p === '/v2') return 'ping';
  if (p.includes('/blobs/uploads')) return 'upload';
  if (p.includes('/manifests/')) return 'manifest';
  if (p.includes('/blobs/') || p.startsWith('/cdn/')) return 'blob';
  if (p.endsWith('/tags/list')) return 'tags';
  if (p.includes('/referrers/')) return 'referrers';
  // Realms live at /token (Docker Hub, GHCR), /v2/token (GCR), /service/token (Harbor), /oauth2/token (ACR).
  if (p.startsWith('/token') || p.endsWith('/token')) return 'token';
  return 'other';
}

export type Fault =
  | { type: 'status'; status: number; headers?: Record<string, string>; body?: string }
  | { type: 'reset' }
  /** Sends the upstream's headers and only `bytes` of the body (default half), then cuts the connection. */
  | { type: 'truncate'; bytes?: number }
  /** Flips one byte in the middle of the body, keeping its length. */
  | { type: 'corrupt' }
  /** Waits before forwarding. */
  | { type: 'delay'; ms: number }
  /** Sends headers and half the body, then pauses `ms` before the rest. */
  | { type: 'stall'; ms: number };

export interface FaultRule {
  method?: string;
  kind?: PathKind;
  pathIncludes?: string;
  fault: Fault;
  /** How many matching requests get the fault; default all. */
  times?: number;
  /** Let this many matching requests through first. */
  skip?: number;
  /** Fault only this fraction of matching requests (deterministic pseudo-random sequence). */
  fraction?: number;
}

export interface ProxyEvent {
  method: string;
  kind: PathKind;
  path: string;
  start: number;
  end: number;
  status: number;
  fault: Fault['type'] | null;
}

export interface FaultProxy {
  readonly url: string;
  readonly host: string;
  /** Every request, with start and end times (ms, `performance.now()`), for limit measurements. */
  readonly events: ProxyEvent[];
  /** Requests so far by `"<METHOD> <kind>"`, e.g. `counts()['GET manifest']`. */
  counts(): Record<string, number>;
  count(method: string, kind: PathKind): number;
  /** Most requests of a kind in flight at once. */
  maxInFlight(kind?: PathKind): number;
  inject(rule: FaultRule): void;
  clearFaults(): void;
  reset(): void;
  stop(): Promise<void>;
}

class Mangle extends Transform {
  private seen = 0;
  constructor(
    private readonly at: number,
    private readonly mode: 'corrupt' | 'truncate',
  ) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const start = this.seen;
    this.seen += chunk.length;
    if (this.mode === 'truncate') {
      if (start >= this.at) return done(new Error('truncated by fault proxy'));
      if (this.seen > this.at) {
        this.push(chunk.subarray(0, this.at - start));
        return done(new Error('truncated by fault proxy'));
      }
      return done(null, chunk);
    }
    if (this.at >= start && this.at < this.seen) {
      const copy = Buffer.from(chunk);
      copy[this.at - start] = (copy[this.at - start] ?? 0) ^ 0xff;
      return done(null, copy);
    }
    done(null, chunk);
  }
}

/** A reverse proxy in front of an upstream that counts requests and injects faults. */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const targetUrl = new URL(target);
  let rules: Array<FaultRule & { matched: number; applied: number }> = [];
  let events: ProxyEvent[] = [];
  const inFlight = new Map<string, number>();
  const peak = new Map<string, number>();
  let seed = 12345;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };

  /** Every rule counts every request it matches; the first rule that applies wins. */
  const choose = (method: string, kind: PathKind, path: string): Fault | null => {
    let chosen: Fault | null = null;
    for (const rule of rules) {
      if (rule.method && rule.method !== method) continue;
      if (rule.kind && rule.kind !== kind) continue;
      if (rule.pathIncludes && !path.includes(rule.pathIncludes)) continue;
      rule.matched += 1;
      if (chosen || rule.matched <= (rule.skip ?? 0)) continue;
      if (rule.applied >= (rule.times ?? Infinity)) continue;
      if (rule.fraction !== undefined && random() >= rule.fraction) continue;
      rule.applied += 1;
      chosen = rule.fault;
    }
    return chosen;
  };

  const track = (kind: string, delta: number): void => {
    for (const key of [kind, '*']) {
      const now = (inFlight.get(key) ?? 0) + delta;
      inFlight.set(key, now);
      peak.set(key, Math.max(peak.get(key) ?? 0, now));
    }
  };

  const forward = (req: IncomingMessage, res: ServerResponse, fault: Fault | null, finish: (status: number) => void): void => {
    const upstream = httpRequest({ host: targetUrl.hostname, port: targetUrl.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      const status = up.statusCode ?? 502;
      const length = Number(up.headers['content-length'] ?? 0);
      const mangles = fault?.type === 'corrupt' || fault?.type === 'truncate' || fault?.type === 'stall';
      if (!mangles || length === 0 || req.method === 'HEAD') {
        res.writeHead(status, up.headers);
        up.pipe(res);
        up.on('end', () => finish(status));
        return;
      }
      res.writeHead(status, up.headers);
      if (fault.type === 'stall') {
        let sent = 0;
        let paused = false;
        up.on('data', (chunk: Buffer) => {
          sent += chunk.length;
          res.write(chunk);
          if (!paused && sent >= length / 2) {
            paused = true;
            up.pause();
            setTimeout(() => up.resume(), fault.ms);
          }
        });
        up.on('end', () => {
          res.end();
          finish(status);
        });
        return;
      }
      const at = fault.type === 'truncate' ? (fault.bytes ?? Math.floor(length / 2)) : Math.floor(length / 2);
      pipeline(up, new Mangle(at, fault.type), res, () => {
        if (fault.type === 'truncate') res.socket?.destroy();
        finish(status);
      });
    });
    upstream.on('error', () => {
      res.socket?.destroy();
      finish(502);
    });
    req.pipe(upstream);
  };

  const server = createServer((req, res) => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const kind = pathKind(path);
    const event: ProxyEvent = { method, kind, path, start: performance.now(), end: 0, status: 0, fault: null };
    events.push(event);
    track(kind, 1);
    let done = false;
    const finish = (status: number): void => {
      if (done) return;
      done = true;
      event.end = performance.now();
      event.status = status;
      track(kind, -1);
    };
    res.on('close', () => finish(res.statusCode));
    const fault = choose(method, kind, path);
    event.fault = fault?.type ?? null;
    if (fault?.type === 'status') {
      req.resume();
      res.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers });
      res.end(fault.body ?? JSON.stringify({ errors: [{ code: 'FAULT', message: `injected ${fault.status}` }] }));
      finish(fault.status);
      return;
    }
    if (fault?.type === 'reset') {
      req.socket.destroy();
      finish(0);
      return;
    }
    if (fault?.type === 'delay') {
      setTimeout(() => forward(req, res, null, finish), fault.ms);
      return;
    }
    forward(req, res, fault, finish);
  });
  const url = await listenLocal(server);
  return {
    url,
    host: url.slice('http://'.length),
    get events() {
      return events;
    },
    counts() {
      const out: Record<string, number> = {};
      for (const e of events) out[`${e.method} ${e.kind}`] = (out[`${e.method} ${e.kind}`] ?? 0) + 1;
      return out;
    },
    count: (method, kind) => events.filter((e) => e.method === method && e.kind === kind).length,
    maxInFlight: (kind) => peak.get(kind ?? '*') ?? 0,
    inject(rule) {
      rules.push({ ...rule, matched: 0, applied: 0 });
    },
    clearFaults() {
      rules = [];
    },
    reset() {
      rules = [];
      events = [];
      peak.clear();
    },
    stop: () => closeServer(server),
  };
}
