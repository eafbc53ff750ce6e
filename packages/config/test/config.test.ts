import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, createLogger, loadConfig, openSecret, resolveSecretKey, sealSecret } from '../src/index.ts';

const run = promisify(execFile);

describe('loadConfig', () => {
  it('needs nothing for a first start and derives paths from DATA_DIR', () => {
    const config = loadConfig({ DATA_DIR: '/srv/cistern' });
    expect(config.databaseUrl).toBeUndefined();
    expect(config.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(config.redisUrlSet).toBe(false);
    expect(config.redisPrefix).toBe('cistern');
    expect(config.storageDir).toBe('/srv/cistern/storage');
    expect(config.storageDirectIo).toBe(true);
    expect(config.ports).toEqual({ api: 24817, registry: 24816, worker: 24818 });
    expect(config.publicUrl).toBe('http://127.0.0.1:24816');
    expect(config.orphanProtectionMinutes).toBe(1440);
  });

  it('parses every setting it is given', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgresql://u:p@db:5432/cistern',
      REDIS_URL: 'redis://cache:6380',
      REDIS_PREFIX: 'cistern-staging',
      STORAGE_DIR: '/blobs',
      STORAGE_DIRECT_IO: 'false',
      API_PORT: '9000',
      PUBLIC_URL: 'https://mirror.example.com/',
      LOG_LEVEL: 'debug',
      WORKER_CONCURRENCY: '8',
      ORPHAN_PROTECTION_MINUTES: '0',
    });
    expect(config).toMatchObject({
      databaseUrl: 'postgresql://u:p@db:5432/cistern',
      redisUrl: 'redis://cache:6380',
      redisUrlSet: true,
      redisPrefix: 'cistern-staging',
      storageDir: '/blobs',
      storageDirectIo: false,
      ports: { api: 9000 },
      publicUrl: 'https://mirror.example.com',
      logLevel: 'debug',
      workerConcurrency: 8,
      orphanProtectionMinutes: 0,
    });
  });

  it('looks for the Redis of the all-in-one start at EMBEDDED_REDIS_PORT when REDIS_URL is unset', () => {
    expect(loadConfig({ EMBEDDED_REDIS_PORT: '26379' }).redisUrl).toBe('redis://127.0.0.1:26379');
    expect(loadConfig({ EMBEDDED_REDIS_PORT: '26379', REDIS_URL: 'redis://cache:6380' }).redisUrl).toBe('redis://cache:6380');
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', API_PORT: '' }).ports.api).toBe(24817);
  });

  it.each([
    [{ API_PORT: 'eighty' }, /API_PORT: /],
    [{ API_PORT: '70000' }, /API_PORT: /],
    [{ DATABASE_URL: 'mysql://x/y' }, /DATABASE_URL: must start with postgres:\/\/ or postgresql:\/\//],
    [{ REDIS_URL: 'not a url' }, /REDIS_URL: /],
    [
      { REDIS_URL: '127.0.0.1:6379' },
      /^invalid configuration: REDIS_URL: must start with redis:\/\/ or rediss:\/\/; it has no scheme: write redis:\/\/127\.0\.0\.1:6379$/,
    ],
    [
      { PUBLIC_URL: 'mirror.example.com' },
      /^invalid configuration: PUBLIC_URL: must start with http:\/\/ or https:\/\/; it has no scheme: write http:\/\/mirror\.example\.com$/,
    ],
    [{ REDIS_URL: 'redis://127.0.0.1:6379/abc' }, /^invalid configuration: REDIS_URL: its path names the database and must be a number such as \/0/],
    [{ DATABASE_URL: 'postgresql://[bad' }, /^invalid configuration: DATABASE_URL: is not a valid URL$/],
    [{ EMBEDDED_REDIS_PORT: '0' }, /EMBEDDED_REDIS_PORT: /],
    [{ REDIS_PREFIX: 'a:b' }, /REDIS_PREFIX: must be 1 to 64 letters/],
    [{ REDIS_PREFIX: 'cistern*' }, /REDIS_PREFIX: must be 1 to 64 letters/],
    [{ SECRET_KEY: 'short' }, /SECRET_KEY: must be 64 lowercase hex characters/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL: /],
    [{ STORAGE_DIRECT_IO: 'yes' }, /STORAGE_DIRECT_IO: must be true or false/],
    [{ MANIFEST_MAX_BYTES: '1024' }, /MANIFEST_MAX_BYTES: /],
    [{ ORPHAN_PROTECTION_MINUTES: '-1' }, /ORPHAN_PROTECTION_MINUTES: /],
    [{ ORPHAN_PROTECTION_MINUTES: '1.5' }, /ORPHAN_PROTECTION_MINUTES: /],
  ])('names the bad variable in one line: %o', (env, message) => {
    const error = (() => {
      try {
        loadConfig(env);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it('takes a METRICS_TOKEN only of 16 or more visible ASCII characters, which an Authorization header carries as they are', () => {
    expect(loadConfig({ METRICS_TOKEN: 'metrics-token-0123456789' }).metricsToken).toBe('metrics-token-0123456789');
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN: must be at least 16 characters/);
    expect(() => loadConfig({ METRICS_TOKEN: 'tökentökentökentöken' })).toThrow(/METRICS_TOKEN: must be visible ASCII/);
    expect(() => loadConfig({ METRICS_TOKEN: 'with a space in it 0123' })).toThrow(/METRICS_TOKEN: must be visible ASCII/);
  });

  it('lists every bad variable at once', () => {
    expect(() => loadConfig({ API_PORT: 'x', REGISTRY_PORT: 'y' })).toThrow(/API_PORT: .*; REGISTRY_PORT: /);
  });
});

describe('secret key and sealed secrets', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });
  const logger = createLogger({ logLevel: 'silent' });

  it('generates the key once into the data directory and reuses it', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'cistern-config-'));
    dirs.push(dataDir);
    const config = loadConfig({ DATA_DIR: dataDir });
    const [first, second] = await Promise.all([resolveSecretKey(config, logger), resolveSecretKey(config, logger)]);
    expect(first.length).toBe(32);
    expect(second.equals(first)).toBe(true);
    expect((await resolveSecretKey(config, logger)).equals(first)).toBe(true);
    expect((await readFile(path.join(dataDir, 'secret.key'), 'utf8')).trim()).toBe(first.toString('hex'));
    expect((await stat(path.join(dataDir, 'secret.key'))).mode & 0o777).toBe(0o600);
  });

  it('hands every one of many processes starting together on a new data directory the same whole key', async () => {
    // Separate processes, as the API, worker and registry start: a key file seen half-written fails a start.
    for (let round = 0; round < 3; round++) {
      const dataDir = await mkdtemp(path.join(tmpdir(), 'cistern-config-'));
      dirs.push(dataDir);
      const script = `import { createLogger, loadConfig, resolveSecretKey } from ${JSON.stringify(path.resolve(import.meta.dirname, '../src/index.ts'))};
        const key = await resolveSecretKey(loadConfig({ DATA_DIR: ${JSON.stringify(dataDir)} }), createLogger({ logLevel: 'silent' }));
        process.stdout.write(key.toString('hex'));`;
      const keys = await Promise.all(
        Array.from({ length: 6 }, async () => {
          const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script]);
          return stdout;
        }),
      );
      expect(new Set(keys).size).toBe(1);
      expect((await readFile(path.join(dataDir, 'secret.key'), 'utf8')).trim()).toBe(keys[0]);
    }
  }, 60_000);

  it('prefers SECRET_KEY', async () => {
    const config = loadConfig({ DATA_DIR: '/nonexistent', SECRET_KEY: 'ab'.repeat(32) });
    expect((await resolveSecretKey(config, logger)).toString('hex')).toBe('ab'.repeat(32));
  });

  it('seals with AES-256-GCM: round trip, fresh IV each time, tampering detected', () => {
    const key = Buffer.alloc(32, 7);
    const sealed = sealSecret(key, 'hunter2');
    expect(sealed).not.toContain('hunter2');
    expect(sealSecret(key, 'hunter2')).not.toBe(sealed);
    expect(openSecret(key, sealed)).toBe('hunter2');
    const parts = sealed.split('.');
    const flipped = Buffer.from(parts[3] ?? '', 'base64url');
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    expect(() => openSecret(key, [...parts.slice(0, 3), flipped.toString('base64url')].join('.'))).toThrow();
    expect(() => openSecret(Buffer.alloc(32, 8), sealed)).toThrow();
  });
});
