import type { TokenService } from '@cistern/auth';
import type { Config, Logger } from '@cistern/config';
import type { DomainServices } from '@cistern/domain';

/** What route modules need: the domain services, and what shaping responses takes; built once by startApi. */
export interface ApiContext extends DomainServices {
  config: Config;
  /** Checks the bearer token of every /api request. */
  authenticator: Pick<TokenService, 'verify'>;
  logger: Logger;
}

// The API's URL layout lives in @cistern/runtime, where the worker reads it too.
export { API_PREFIX, hrefOf } from '@cistern/runtime';
