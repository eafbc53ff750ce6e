import { createHash } from 'node:crypto';
import { Agent, ProxyAgent, type Dispatcher } from 'undici';

export interface TransportSettings {
  /** Verify the upstream's TLS certificate; default true. */
  tlsVerify?: boolean;
  /** PEM CA certificate(s) to trust besides the system's. */
  caCert?: string;
  /** An HTTP(S) proxy to reach the upstream through; credentials in it count as proxyUsername and proxyPassword. */
  proxyUrl?: string;
  /** With proxyPassword, sent to the proxy (only) as `Proxy-Authorization: Basic`. */
  proxyUsername?: string;
  proxyPassword?: string;
  connectTimeoutMs?: number;
  /** Longest wait for response headers, and longest gap between body chunks. */
  readTimeoutMs?: number;
}

const dispatchers = new Map<string, Dispatcher>();

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The proxy to dial, without userinfo, and the `Proxy-Authorization` value it gets, if any. */
function proxyOf(settings: TransportSettings): { uri: string; token?: string } | null {
  if (!settings.proxyUrl) return null;
  const url = new URL(settings.proxyUrl);
  const username = settings.proxyUsername ?? decodeURIComponent(url.username);
  const password = settings.proxyPassword ?? decodeURIComponent(url.password);
  url.username = '';
  url.password = '';
  if (!username && !password) return { uri: url.href };
  return { uri: url.href, token: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` };
}

/**
 * A keep-alive connection pool per upstream origin (undici's Agent keeps one
 * Pool per origin), shared by all clients with the same transport settings.
 * The pool key holds the proxy credentials only as a hash.
 */
export function dispatcherFor(settings: TransportSettings): Dispatcher {
  const proxy = proxyOf(settings);
  const key = JSON.stringify([
    settings.tlsVerify ?? true,
    settings.caCert ? sha256(settings.caCert) : null,
    proxy?.uri ?? null,
    proxy?.token ? sha256(proxy.token) : null,
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
    dispatcher = proxy
      ? new ProxyAgent({ uri: proxy.uri, ...(proxy.token ? { token: proxy.token } : {}), requestTls: connect, ...timeouts })
      : new Agent({ connect, ...timeouts });
    dispatchers.set(key, dispatcher);
  }
  return dispatcher;
}
