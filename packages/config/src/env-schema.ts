import path from 'node:path';
import { z } from 'zod';

const port = z.coerce.number().int().min(1).max(65535);
/** A URL of one of `protocols`; one message naming what is wrong, with the fix for a missing scheme (`127.0.0.1:6379`). */
const url = (protocols: string[]) =>
  z.string().superRefine((value, ctx) => {
    const schemes = protocols.map((p) => `${p}://`).join(' or ');
    if (!protocols.some((p) => value.startsWith(`${p}://`))) {
      const hint = value.includes('://') ? '' : `; it has no scheme: write ${protocols[0]}://${value}`;
      ctx.addIssue({ code: 'custom', message: `must start with ${schemes}${hint}` });
    } else if (!URL.canParse(value)) {
      ctx.addIssue({ code: 'custom', message: 'is not a valid URL' });
    }
  });

/** A Redis URL: its path, if any, is the database index (`/0`, `/3`), as ioredis reads it. */
const redisUrl = url(['redis', 'rediss']).superRefine((value, ctx) => {
  if (!/^rediss?:\/\//.test(value) || !URL.canParse(value)) return;
  if (!/^\/?(\d{1,5})?$/.test(new URL(value).pathname)) {
    ctx.addIssue({ code: 'custom', message: 'its path names the database and must be a number such as /0 (or none, for database 0)' });
  }
});

/** Every setting Cistern reads from the environment, with its default. The README's table mirrors this. */
export const envSchema = z
  .object({
    DATA_DIR: z.string().min(1).default('./data'),
    DATABASE_URL: url(['postgres', 'postgresql']).optional(),
    REDIS_URL: redisUrl.optional(),
    EMBEDDED_REDIS_PORT: port.default(6379),
    // No ':' (BullMQ joins key parts with it) and no glob characters (a prefix's keys are found by `<prefix>:*`).
    REDIS_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1 to 64 letters, digits, "_", "." or "-"')
      .default('cistern'),
    STORAGE_DIR: z.string().min(1).optional(),
    STORAGE_DIRECT_IO: z.enum(['true', 'false'], { error: 'must be true or false' }).default('true'),
    HOST: z.string().min(1).default('127.0.0.1'),
    API_PORT: port.default(24817),
    REGISTRY_PORT: port.default(24816),
    WORKER_PORT: port.default(24818),
    PUBLIC_URL: url(['http', 'https']).optional(),
    SECRET_KEY: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters (32 bytes)')
      .optional(),
    CISTERN_ADMIN_TOKEN: z.string().min(32, 'must be at least 32 characters').optional(),
    /** When set, `/metrics` on every port requires `Authorization: Bearer <METRICS_TOKEN>`. */
    // Visible ASCII only: an HTTP header cannot carry other characters as the same bytes.
    METRICS_TOKEN: z
      .string()
      .min(16, 'must be at least 16 characters')
      .regex(/^[\x21-\x7e]+$/, 'must be visible ASCII characters (no spaces): it travels in an Authorization header')
      .optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
    MANIFEST_MAX_BYTES: z.coerce
      .number()
      .int()
      .min(4 * 1024 * 1024)
      .default(4 * 1024 * 1024),
    SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(30_000),
    ORPHAN_PROTECTION_MINUTES: z.coerce.number().int().min(0).default(1440),
    PULL_THROUGH_FLUSH_MS: z.coerce.number().int().min(100).max(3_600_000).default(5000),
    PULL_THROUGH_RECHECK_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(5000),
    PULL_THROUGH_NEGATIVE_TTL_SECONDS: z.coerce.number().int().min(0).max(86_400).default(30),
  })
  .transform((env) => {
    const dataDir = path.resolve(env.DATA_DIR);
    return {
      dataDir,
      databaseUrl: env.DATABASE_URL,
      redisUrl: env.REDIS_URL ?? `redis://127.0.0.1:${env.EMBEDDED_REDIS_PORT}`,
      /** Set explicitly: then an unreachable Redis is an error, never replaced by an embedded one. */
      redisUrlSet: env.REDIS_URL !== undefined,
      redisPrefix: env.REDIS_PREFIX,
      storageDir: path.resolve(env.STORAGE_DIR ?? path.join(dataDir, 'storage')),
      storageDirectIo: env.STORAGE_DIRECT_IO === 'true',
      host: env.HOST,
      ports: { api: env.API_PORT, registry: env.REGISTRY_PORT, worker: env.WORKER_PORT },
      publicUrl: (env.PUBLIC_URL ?? `http://${env.HOST}:${env.REGISTRY_PORT}`).replace(/\/+$/, ''),
      secretKeyHex: env.SECRET_KEY,
      adminToken: env.CISTERN_ADMIN_TOKEN,
      metricsToken: env.METRICS_TOKEN,
      logLevel: env.LOG_LEVEL,
      workerConcurrency: env.WORKER_CONCURRENCY,
      manifestMaxBytes: env.MANIFEST_MAX_BYTES,
      shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
      orphanProtectionMinutes: env.ORPHAN_PROTECTION_MINUTES,
      pullThrough: {
        flushMs: env.PULL_THROUGH_FLUSH_MS,
        recheckTimeoutMs: env.PULL_THROUGH_RECHECK_TIMEOUT_MS,
        negativeTtlSeconds: env.PULL_THROUGH_NEGATIVE_TTL_SECONDS,
      },
    };
  });

export type Config = z.infer<typeof envSchema>;
