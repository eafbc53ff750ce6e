import { CisternError, type ErrorCode } from '@cistern/errors';

/** A failure a task reports to users: a code they can act on, a message, optional detail, whether a retry may help. */
export class TaskError extends CisternError {
  override readonly name = 'TaskError';
}

/** Thrown at a safe point once the task was asked to stop. */
export class TaskCanceledError extends CisternError<'CANCELED'> {
  override readonly name = 'TaskCanceledError';

  constructor() {
    super('CANCELED', 'the task was canceled');
  }
}

/** Why a running task is interrupted when its worker shuts down: it goes back to waiting, not to failed. */
export class WorkerStoppingError extends CisternError<'WORKER_STOPPING'> {
  override readonly name = 'WorkerStoppingError';

  constructor() {
    super('WORKER_STOPPING', 'the worker is shutting down; the task waits for the next worker');
  }
}

export interface TaskErrorRecord {
  code: ErrorCode;
  message: string;
  detail?: unknown;
}

/** Turns anything thrown into the record stored on the task: a CisternError keeps its code, anything else is INTERNAL_ERROR. */
export function toErrorRecord(error: unknown): TaskErrorRecord {
  if (error instanceof CisternError) return { code: error.code, message: error.message, detail: error.detail };
  return { code: 'INTERNAL_ERROR', message: error instanceof Error ? error.message : String(error) };
}

/** Only a CisternError says whether a retry may help; anything else is a bug, and retrying a bug does not help. */
export function isRetryable(error: unknown): boolean {
  return error instanceof CisternError && error.retryable;
}
