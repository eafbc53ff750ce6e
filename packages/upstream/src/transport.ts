import { createHash } from 'node:crypto';
import { Agent, ProxyAgent, type Dispatcher } from 'undici';

export interface TransportSettings {
  /** Verify the upstream's TLS certificate; default true. */
  tlsVerify?: boolean;
  /** PEM CA certificate(s) to trust besides the system's. */
  caCert?: string;
  /** An HTTP(S) proxy to reach the upstream through. */
  proxyUrl?: string;
  connectTimeoutMs?: number;
  /** Longest wait for response headers, and longest gap between body chunks. */
  readTimeoutMs?: number;
}

const dispatchers = new Map<string, Dispatcher>();

/**
 * A keep-alive connection pool per upstream origin (undici's Agent keeps one
 * Pool per origin), shared by all clients with the same transport settings.
 */
export function dispatcherFor(settings: TransportSettings): Dispatcher {
  const key = JSON.stringify([
    settings.tlsVerify ?? true,
    settings.caCert ? createHash('sha256').update(settings.caCert).digest('hex') : null,
    settings.proxyUrl ?? null,
    settings.connectTimeoutMs ?? null,
    settings.readTimeoutMs ?? null,
  ]);
  let dispatcher = dispatchers.get(key);
  if (!dispatcher) {
    const tls = { rejectUnauthorized: settings.tlsVerify ?? true, ...(settings.caCert ? { ca: settings.caCert } : {}) };
    const timeouts = {
      headersTimeout: settings.readTimeoutMs ?? 60_000,
      bodyTimeout: settings.readTimeoutMs ?? 60_000,
      keepAliveTimeout: 30_000,
    };
    const connect = { ...tls, timeout: settings.connectTimeoutMs ?? 15_000 };
    dispatcher = settings.proxyUrl
      ? new ProxyAgent({ uri: settings.proxyUrl, requestTls: connect, ...timeouts })
      : new Agent({ connect, ...timeouts });
    dispatchers.set(key, dispatcher);
  }
  return dispatcher;
}
