export { generateSecret, hashSecret, TOKEN_PREFIX } from './secret.ts';
export { AdminSessions, type AdminLogin } from './admin-session.ts';
export {
  TokenService,
  TokenInputError,
  canPull,
  basePathReaches,
  type Principal,
  type CreateTokenInput,
  type CreatedToken,
  type TokenWithDistributions,
} from './token-service.ts';
