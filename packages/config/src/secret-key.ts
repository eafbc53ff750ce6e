import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from './env-schema.ts';
import { ConfigError } from './load-config.ts';

const KEY_FILE = 'secret.key';

/**
 * The key that encrypts remote credentials at rest: SECRET_KEY if set, else one
 * generated on first start into the data directory and reused after.
 */
export async function resolveSecretKey(config: Config, logger: Logger): Promise<Buffer> {
  if (config.secretKeyHex) return Buffer.from(config.secretKeyHex, 'hex');
  const file = path.join(config.dataDir, KEY_FILE);
  try {
    const hex = (await readFile(file, 'utf8')).trim();
    if (!/^[0-9a-f]{64}$/.test(hex)) throw new ConfigError(`${file}: not a 64-hex-character key`);
    return Buffer.from(hex, 'hex');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const key = randomBytes(32);
  await mkdir(config.dataDir, { recursive: true });
  // Written whole under a name of its own, then linked into place: link fails
  // if the key file exists, and a process starting beside this one never
  // reads it half-written.
  const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(draft, key.toString('hex'), { mode: 0o600, flag: 'wx' });
  try {
    await link(draft, file);
    logger.info({ file }, 'generated a new secret key for credentials at rest; back it up with the database');
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return resolveSecretKey(config, logger);
    throw error;
  } finally {
    await unlink(draft);
  }
}
