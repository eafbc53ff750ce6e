import { openSecret } from '@cistern/config';
import type { Remote } from '@cistern/db';
import { UpstreamClient, type UpstreamClientOptions } from '@cistern/upstream';

/**
 * The upstream client of a Remote row: its settings, its passwords (the
 * registry's and the proxy's) decrypted here and nowhere else, and its limits shared by everything in the process
 * that talks to this remote (keyed by the remote's id). `tuning` adds hooks
 * and retry timings.
 */
export function clientForRemote(remote: Remote, secretKey: Buffer, tuning: Partial<UpstreamClientOptions> = {}): UpstreamClient {
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
    ...tuning,
  });
}
