export { generateSecret, hashSecret, TOKEN_PREFIX } from './secret.ts';
export { BASE_PATH_RULE, isBasePath, MAX_TOKEN_BASE_PATHS } from './base-paths.ts';
export { AdminSessions, type AdminLogin } from './admin-session.ts';
export {
  TokenService,
  TokenInputError,
  canPull,
  reachOf,
  reachesBelow,
  type PullReach,
  basePathReaches,
  type Principal,
  type CreateTokenInput,
  type CreatedToken,
  type TokenWithDistributions,
} from './token-service.ts';
