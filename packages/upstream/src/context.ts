import type { RequestCore } from './request.ts';

/** What each operation needs: the request core and the repository's base URL. */
export interface OperationContext {
  core: RequestCore;
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
