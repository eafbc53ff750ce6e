import { openSecret } from '@cistern/config';
import { UpstreamClient, type UpstreamClientOptions } from './client.ts';

/**
 * What the client of a remote is made from: the fields of a Remote row
 * (@cistern/db), spelled out so that this package needs no database. The
 * passwords are still sealed (`sealSecret` of @cistern/config); timeouts are
 * in milliseconds.
 */
export interface RemoteSettings {
  /** Keys the limits and auth state shared by everything in the process that talks to this remote. */
  readonly id: string;
  /** The `remote` label of the upstream metrics and logs. */
  readonly name: string;
  readonly url: string;
  readonly upstreamName: string;
  readonly username: string | null;
  readonly passwordEncrypted: string | null;
  readonly tlsVerify: boolean;
  readonly caCert: string | null;
  readonly proxyUrl: string | null;
  readonly proxyUsername: string | null;
  readonly proxyPasswordEncrypted: string | null;
  readonly downloadConcurrency: number;
  readonly requestsPerSecond: number | null;
  readonly maxRetries: number;
  readonly connectTimeoutMs: number;
  readonly readTimeoutMs: number;
}

/**
 * The upstream client of a remote: its settings, its passwords (the
 * registry's and the proxy's) decrypted here and nowhere else with
 * `secretKey`, and its limits shared by everything in the process that talks
 * to this remote (keyed by the remote's id). `tuning` adds hooks and retry
 * timings. Throws when a sealed password does not open with `secretKey`.
 */
export function clientForRemote(remote: RemoteSettings, secretKey: Buffer, tuning: Partial<UpstreamClientOptions> = {}): UpstreamClient {
  return new UpstreamClient({
    url: remote.url,
    upstreamName: remote.upstreamName,
    ...(remote.username ? { username: remote.username } : {}),
    ...(remote.passwordEncrypted ? { password: openSecret(secretKey, remote.passwordEncrypted) } : {}),
    tlsVerify: remote.tlsVerify,
    ...(remote.caCert ? { caCert: remote.caCert } : {}),
    ...(remote.proxyUrl ? { proxyUrl: remote.proxyUrl } : {}),
    ...(remote.proxyUsername ? { proxyUsername: remote.proxyUsername } : {}),
    ...(remote.proxyPasswordEncrypted ? { proxyPassword: openSecret(secretKey, remote.proxyPasswordEncrypted) } : {}),
    downloadConcurrency: remote.downloadConcurrency,
    ...(remote.requestsPerSecond ? { requestsPerSecond: remote.requestsPerSecond } : {}),
    maxRetries: remote.maxRetries,
    connectTimeoutMs: remote.connectTimeoutMs,
    readTimeoutMs: remote.readTimeoutMs,
    limitKey: `remote:${remote.id}`,
    remoteName: remote.name,
    ...tuning,
  });
}
