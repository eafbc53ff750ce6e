import { CisternError, type CisternErrorOptions } from '@cistern/errors';
import { envSchema, type Config } from './env-schema.ts';

/** The environment (or the secret key file) is missing or malformed; the message names every problem. */
export class ConfigError extends CisternError<'CONFIG_INVALID'> {
  override readonly name = 'ConfigError';

  constructor(message: string, options?: CisternErrorOptions) {
    super('CONFIG_INVALID', message, options);
  }
}

/** Parses the environment once; the error names every bad variable on one line. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings mean "unset", as in most shells' `VAR= cmd`.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const result = envSchema.safeParse(present);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
}
