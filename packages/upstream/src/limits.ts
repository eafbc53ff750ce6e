import PQueue from 'p-queue';

export interface LimitSettings {
  /** Blob downloads at once, and also manifest and blob-HEAD exchanges at once; default 4. */
  downloadConcurrency?: number;
  /** Request starts in any rolling second; undefined or 0 = no limit. */
  requestsPerSecond?: number;
}

/** The limits of one remote, shared by every client of it in this process. */
export interface RemoteLimits {
  /** Resolves when one more request may start; rejects when `signal` aborts first. */
  requestSlot(signal?: AbortSignal): Promise<void>;
  /** Runs a download when a download slot is free. */
  download<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  /**
   * Runs one manifest or blob-HEAD exchange (request and body) when a slot is
   * free, so a fan-out of any width (an index of 20,000 entries) keeps at most
   * `downloadConcurrency` of them open. Never nest two. Referrer listings do
   * not pass here: the sync bounds them with its own pool, `downloadConcurrency`
   * subjects at once.
   */
  exchange<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T>;
}

interface Entry {
  requests: PQueue | undefined;
  rps: number;
  downloads: PQueue;
  exchanges: PQueue;
}

const registry = new Map<string, Entry>();

/** Spacing kept above 1000/rps so that jitter between release and arrival cannot push a second over. */
const SPACING_MARGIN = 1.05;

/**
 * Starts spread evenly (one per ~1000/rps ms up to 100 rps, small groups
 * above), on a sliding window (`strict`). A whole second's allowance at once
 * would open that many connections together, and their uneven set-up times
 * bunch them with the next second's requests at the upstream.
 */
function rateQueue(rps: number): PQueue | undefined {
  if (!(rps > 0)) return undefined;
  const intervalCap = Math.ceil(rps / 100);
  return new PQueue({ intervalCap, interval: (intervalCap * 1000 * SPACING_MARGIN) / rps, strict: true });
}

/**
 * The limits for a remote key (a remote's id, or its URL and user). The latest
 * settings win: a changed concurrency applies at once, a changed rate from the
 * next request on.
 */
export function limitsFor(key: string, settings: LimitSettings): RemoteLimits {
  const concurrency = Math.max(1, settings.downloadConcurrency ?? 4);
  const rps = settings.requestsPerSecond ?? 0;
  let entry = registry.get(key);
  if (!entry) {
    entry = { requests: rateQueue(rps), rps, downloads: new PQueue({ concurrency }), exchanges: new PQueue({ concurrency }) };
    registry.set(key, entry);
  } else {
    if (entry.downloads.concurrency !== concurrency) entry.downloads.concurrency = concurrency;
    if (entry.exchanges.concurrency !== concurrency) entry.exchanges.concurrency = concurrency;
    if (entry.rps !== rps) {
      entry.requests = rateQueue(rps);
      entry.rps = rps;
    }
  }
  const current = entry;
  return {
    requestSlot: async (signal) => {
      await current.requests?.add(() => undefined, { signal });
    },
    download: async <T>(task: () => Promise<T>, signal?: AbortSignal) => current.downloads.add(task, { signal }),
    exchange: async <T>(task: () => Promise<T>, signal?: AbortSignal) => current.exchanges.add(task, { signal }),
  };
}
