export interface RetrySettings {
  /** Retries after the first attempt; default 4. */
  maxRetries?: number;
  /** First backoff; doubles each retry, with full jitter. Default 500 ms. */
  retryBaseMs?: number;
  /** Longest single backoff; default 15 s. */
  retryMaxMs?: number;
  /** A 429 asking to wait longer than this stops with TOOMANYREQUESTS; default 60 s. */
  maxRetryAfterMs?: number;
}

/** Exponential backoff with full jitter: a random wait in [base·2^attempt / 2, base·2^attempt], capped. */
export function backoffMs(attempt: number, settings: RetrySettings): number {
  const ceiling = Math.min(settings.retryMaxMs ?? 15_000, (settings.retryBaseMs ?? 500) * 2 ** attempt);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/** `Retry-After` as seconds or an HTTP date, in ms; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
