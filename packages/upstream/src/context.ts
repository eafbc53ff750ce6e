import type { RemoteLimits } from './limits.ts';
import type { RequestCore } from './request.ts';

/** What each operation needs: the request core and the repository's base URL. */
export interface OperationContext {
  core: RequestCore;
  limits: RemoteLimits;
  /** The client's signal (a task's cancel), for waits outside a request. */
  signal: AbortSignal | undefined;
  /** `<registry>/v2/<name>` */
  base: string;
  repository: string;
  maxManifestBytes: number;
  maxPageBytes: number;
  maxPages: number;
  maxRetries: number;
  retryBaseMs: number | undefined;
  retryMaxMs: number | undefined;
}
