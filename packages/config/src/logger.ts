import { pino, type Logger } from 'pino';
import type { Config } from './env-schema.ts';

/** Anything that may carry a credential is censored wherever it appears in a log line. */
const REDACT = [
  'password',
  '*.password',
  '*.*.password',
  'passwordEncrypted',
  '*.passwordEncrypted',
  'proxyPassword',
  '*.proxyPassword',
  'proxyPasswordEncrypted',
  '*.proxyPasswordEncrypted',
  'token',
  '*.token',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["www-authenticate"]',
];

export function createLogger(config: Pick<Config, 'logLevel'>, name = 'cistern'): Logger {
  return pino({ name, level: config.logLevel, redact: { paths: REDACT, censor: '[redacted]' } });
}

export type { Logger };
