import type { Remote } from '@cistern/db';

/** Percent-decoded userinfo, or as written when it does not decode. */
function decodeUserinfo(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** A remote's proxy as it is shown and merged; `proxyPassword` only when a legacy proxyUrl carried one. */
export interface ProxySettings {
  proxyUrl: string | null;
  proxyUsername: string | null;
  proxyPassword?: string;
}

/**
 * The stored proxy settings as they are shown and merged. A proxyUrl stored
 * before proxy credentials had fields of their own may still carry
 * `user:password@`: it is split here so that no view shows them and the next
 * update stores them encrypted.
 */
export function proxySettings(row: Remote): ProxySettings {
  const url = row.proxyUrl === null ? null : URL.parse(row.proxyUrl);
  if (!url || (url.username === '' && url.password === '')) return { proxyUrl: row.proxyUrl, proxyUsername: row.proxyUsername };
  const proxyUsername = row.proxyUsername ?? decodeUserinfo(url.username);
  const proxyPassword = decodeUserinfo(url.password);
  url.username = '';
  url.password = '';
  return { proxyUrl: url.href, proxyUsername, ...(proxyPassword ? { proxyPassword } : {}) };
}
