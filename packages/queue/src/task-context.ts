import type { Prisma, PrismaClient } from '@cistern/db';
import type { Logger } from 'pino';
import { TaskCanceledError } from './task-errors.ts';

export interface ProgressReport {
  code: string;
  message: string;
  done: number;
  total: number | null;
  state: 'running' | 'completed' | 'failed' | 'skipped';
  /** Per-item notes, e.g. the manifests skipped and why. Bounded by the caller. */
  items?: { name: string; reason: string }[];
}

/** What a task handler sees: its params, progress reporting, and the cancel signal. */
export class TaskContext<Params = unknown> {
  private readonly reports = new Map<string, ProgressReport>();
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    readonly taskId: string,
    readonly params: Params,
    /** Aborted when the task is canceled or its resource lock is lost. */
    readonly signal: AbortSignal,
    readonly log: Logger,
    private readonly prisma: PrismaClient,
    private readonly flushEveryMs: number,
    existing: ProgressReport[],
  ) {
    for (const report of existing) this.reports.set(report.code, report);
  }

  /** A safe point: stop here if the task was asked to. */
  checkpoint(): void {
    if (!this.signal.aborted) return;
    throw this.signal.reason instanceof Error ? this.signal.reason : new TaskCanceledError();
  }

  /** Creates or updates a report by code; writes are batched. */
  report(code: string, update: Partial<Omit<ProgressReport, 'code'>>): ProgressReport {
    const current = this.reports.get(code) ?? { code, message: code, done: 0, total: null, state: 'running' };
    const next = { ...current, ...update };
    this.reports.set(code, next);
    // A failed periodic write is logged, never left unhandled: the next flush retries it.
    this.flushTimer ??= setTimeout(
      () => this.flush().catch((error: unknown) => this.log.warn({ err: error }, 'could not save progress reports')),
      this.flushEveryMs,
    );
    return next;
  }

  increment(code: string, by = 1, message?: string): void {
    const current = this.reports.get(code);
    this.report(code, { done: (current?.done ?? 0) + by, ...(message ? { message } : {}) });
  }

  get progressReports(): ProgressReport[] {
    return [...this.reports.values()];
  }

  /**
   * Stops periodic writes and waits for one in flight, so nothing lands after the
   * final state; the runner writes the returned reports with that state.
   */
  async settle(): Promise<Prisma.InputJsonValue> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    await this.flushing.catch(() => undefined);
    return this.progressReports as unknown as Prisma.InputJsonValue;
  }

  /** Writes pending reports now. */
  async flush(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const reports = this.progressReports as unknown as Prisma.InputJsonValue;
    // Chained so writes land in order; a failed one does not fail every later one.
    this.flushing = this.flushing
      .catch(() => undefined)
      .then(async () => {
        await this.prisma.task.update({ where: { id: this.taskId }, data: { progressReports: reports } });
      });
    await this.flushing;
  }
}
