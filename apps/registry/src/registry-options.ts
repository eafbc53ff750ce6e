import type { ClientOverrides } from '@cistern/registry-core';

/** Tuning knobs; production uses the defaults, tests shorten the waits. */
export interface RegistryOptions {
  /** How long a distribution's version resolution is reused (ms). */
  distributionTtlMs?: number;
  referrersPageSize?: number;
  /** Upstream client settings for on-demand fetches. */
  clientOverrides?: ClientOverrides;
  /** How often a request waiting on another's on-demand fetch looks for the blob (ms). */
  fetchPollMs?: number;
  /** A connection that neither sends nor accepts a byte for this long is closed (ms). */
  idleTimeoutMs?: number;
}
