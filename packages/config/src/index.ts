export { envSchema, type Config } from './env-schema.ts';
export { loadConfig, ConfigError } from './load-config.ts';
export { resolveSecretKey } from './secret-key.ts';
export { sealSecret, openSecret } from './secret-box.ts';
export { secretsEqual } from './secret-equal.ts';
export { authorizationCredentials } from './authorization-header.ts';
export { createLogger, type Logger } from './logger.ts';
