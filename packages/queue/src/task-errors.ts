/** A failure a task reports to users: a code they can act on, a message, optional detail. */
export class TaskError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly options: { retryable?: boolean; detail?: unknown; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
  }

  get retryable(): boolean {
    return this.options.retryable ?? false;
  }
}

/** Thrown at a safe point once the task was asked to stop. */
export class TaskCanceledError extends Error {
  readonly code = 'CANCELED';
  constructor() {
    super('the task was canceled');
  }
}

export interface TaskErrorRecord {
  code: string;
  message: string;
  detail?: unknown;
}

/** Turns anything thrown into the record stored on the task, keeping codes that errors already carry. */
export function toErrorRecord(error: unknown): TaskErrorRecord {
  if (error instanceof TaskError) return { code: error.code, message: error.message, detail: error.options.detail };
  if (error instanceof Error) {
    const code = 'code' in error && typeof error.code === 'string' ? error.code : 'INTERNAL_ERROR';
    return { code, message: error.message };
  }
  return { code: 'INTERNAL_ERROR', message: String(error) };
}

/** Errors from other packages say whether a retry may help through a `retryable` flag. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof TaskError) return error.retryable;
  return typeof error === 'object' && error !== null && 'retryable' in error && error.retryable === true;
}
