import type { Prisma, PrismaClient } from '@cistern/db';
import type { Logger } from 'pino';
import { TaskCanceledError } from './task-errors.ts';

/** A report's state: `running` until its step ends, and never `running` once its task has ended (see `endReports`). */
type ProgressState = 'running' | 'completed' | 'failed' | 'skipped' | 'canceled';

/** The states a task ends in. */
export type FinalTaskState = 'completed' | 'failed' | 'canceled';

export interface ProgressReport {
  code: string;
  /** A sentence for people, never the code again. */
  message: string;
  done: number;
  total: number | null;
  state: ProgressState;
  /** Per-item notes, e.g. the manifests skipped and why. Bounded by the caller. */
  items?: { name: string; reason: string }[];
}

/**
 * What a task handler sees: its params, progress reporting, and the cancel
 * signal. Each run reports afresh: a task retried or recovered after a worker
 * died runs its handler from the start, so carrying the reports of the run
 * before would count what both runs did twice.
 */
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
  ) {}

  /** A safe point: stop here if the task was asked to. */
  checkpoint(): void {
    if (!this.signal.aborted) return;
    throw this.signal.reason instanceof Error ? this.signal.reason : new TaskCanceledError();
  }

  /**
   * Creates or updates a report by code; writes are batched. Every update
   * carries its message (a sentence for people), so no report ever shows a bare code.
   */
  report(code: string, update: Partial<Omit<ProgressReport, 'code' | 'message'>> & { message: string }): ProgressReport {
    const current = this.reports.get(code) ?? { code, done: 0, total: null, state: 'running' as const };
    const next = { ...current, ...update };
    this.reports.set(code, next);
    // A failed periodic write is logged, never left unhandled: the next flush retries it.
    this.flushTimer ??= setTimeout(
      () => this.flush().catch((error: unknown) => this.log.warn({ err: error }, 'could not save progress reports')),
      this.flushEveryMs,
    );
    return next;
  }

  increment(code: string, by: number, message: string): void {
    this.report(code, { done: (this.reports.get(code)?.done ?? 0) + by, message });
  }

  get progressReports(): ProgressReport[] {
    return [...this.reports.values()];
  }

  /**
   * Stops periodic writes and waits for one in flight, so nothing lands after the
   * final state; the runner writes the returned reports with that state. With
   * `final` (the task ended) no report is left running.
   */
  async settle(final?: FinalTaskState): Promise<Prisma.InputJsonValue> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    await this.flushing.catch(() => undefined);
    const reports = final ? endReports(this.progressReports, final) : this.progressReports;
    return reports as unknown as Prisma.InputJsonValue;
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

/** The reports of a task that ended in `state`: each one still running takes that state. */
export function endReports(reports: readonly ProgressReport[], state: FinalTaskState): ProgressReport[] {
  return reports.map((report) => (report.state === 'running' ? { ...report, state } : report));
}
