import type { Logger } from 'pino';

/** A service a process depends on, as named in the log lines. */
export type WatchedService = 'redis' | 'postgresql';

/** One connection's reports to its service's watch. */
export interface WatchedConnection {
  /** The connection lost the service: connecting failed, or a request on it could not reach the service. */
  down(error?: unknown): void;
  /** The connection works: it connected, or a request on it answered. */
  up(): void;
  /** The connection is closed for good (shut down): it no longer counts either way. */
  forget(): void;
}

/** What a watch says and where. */
export interface DependencyWatchOptions {
  logger: Logger;
  service: WatchedService;
  /** host:port (and database), never credentials. */
  where: string;
  /**
   * Run every `recheckMs` while the service is down; its success means the
   * service is back. For a service whose connections do not reconnect by
   * themselves (a PostgreSQL pool only learns by being used), so that "back"
   * is said even when nothing else uses it meanwhile.
   */
  recheck?: () => Promise<unknown>;
  /** Default 2000. */
  recheckMs?: number;
}

/** A failure's code and message: no stack, which would repeat the same frames at every outage. */
function summary(error: unknown): { code?: string; message: string } | undefined {
  if (error === undefined) return undefined;
  if (!(error instanceof Error)) return { message: String(error) };
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? { code, message: error.message } : { message: error.message };
}

/**
 * Turns a service's connection events into one "unreachable" line when the
 * first of its connections loses it and one "back" line when the last one has
 * it again, however many errors and reconnect attempts happen meanwhile: the
 * log of an outage is two JSON lines per process and service, not a flood.
 * One watch per service per process; every connection to it reports here.
 */
export class DependencyWatch {
  private readonly lost = new Set<symbol>();
  private downSince: number | undefined;
  private recheckTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly options: DependencyWatchOptions) {}

  /** Whether the service is unreachable as far as this process knows. */
  get isDown(): boolean {
    return this.downSince !== undefined;
  }

  /** A handle for one connection (an ioredis client, a BullMQ queue's connections, a database pool). */
  connection(): WatchedConnection {
    const id = Symbol('connection');
    return {
      down: (error) => this.markDown(id, error),
      up: () => this.markUp(id),
      // No "back" line: a connection closed at shutdown says nothing about the service.
      forget: () => void this.lost.delete(id),
    };
  }

  /** Stops rechecking (at shutdown, before the connections close). */
  stop(): void {
    clearTimeout(this.recheckTimer);
    this.stopped = true;
  }

  private markDown(id: symbol, error: unknown): void {
    this.lost.add(id);
    if (this.downSince !== undefined) return;
    this.downSince = Date.now();
    const { logger, service, where } = this.options;
    logger.error({ dependency: service, where, cause: summary(error) }, `${service} is unreachable; waiting for it to come back`);
    if (this.options.recheck) this.scheduleRecheck();
  }

  // Any connection's success ends the outage once no connection is lost, including one
  // that never was: the lost ones may all have been forgotten (closed) meanwhile.
  private markUp(id: symbol): void {
    this.lost.delete(id);
    if (this.lost.size === 0) this.back();
  }

  private back(): void {
    if (this.downSince === undefined) return;
    const { logger, service, where } = this.options;
    logger.info({ dependency: service, where, downMs: Date.now() - this.downSince }, `${service} is back`);
    this.downSince = undefined;
    this.lost.clear();
    clearTimeout(this.recheckTimer);
  }

  private scheduleRecheck(): void {
    const recheck = this.options.recheck;
    if (!recheck || this.downSince === undefined || this.stopped) return;
    this.recheckTimer = setTimeout(() => {
      recheck().then(
        () => this.back(),
        () => this.scheduleRecheck(),
      );
    }, this.options.recheckMs ?? 2000);
    // A process that is done otherwise does not stay up for a recheck.
    this.recheckTimer.unref();
  }
}
