import { TokenService } from '@cistern/auth';
import { ResourceLocks } from '@cistern/redis-lock';
import {
  DistributionDirectory,
  OnDemandBlobReader,
  PullThroughCache,
  PullThroughMarks,
  PullTokens,
  RegistryAuth,
  RegistryContent,
  RemoteSources,
  UpstreamLists,
} from '@cistern/registry-core';
import type { Resources } from '@cistern/runtime';
import type { Redis } from 'ioredis';
import type { RegistryServices } from './http/registry-services.ts';
import type { RegistryOptions } from './registry-options.ts';

/** The lock outlives a stalled holder by at most this; it is renewed while the download runs. */
const FETCH_LOCK_TTL_MS = 30_000;

/**
 * The registry's services over the shared resources; blobs are read through
 * the on-demand decorator over the store, which pull-through names share.
 */
export function buildServices(resources: Resources, redis: Redis, options: RegistryOptions = {}): RegistryServices {
  const { config, db, storage, secretKey, logger } = resources;
  const prisma = db.prisma;
  const directory = new DistributionDirectory(prisma, { ttlMs: options.distributionTtlMs });
  const remotes = new RemoteSources(prisma, secretKey, { logger: logger.child({ app: 'registry' }), clientOverrides: options.clientOverrides });
  const locks = new ResourceLocks(redis, `${config.redisPrefix}:registry`, FETCH_LOCK_TTL_MS);
  const blobs = new OnDemandBlobReader({ local: storage, prisma, remotes, locks, logger, pollMs: options.fetchPollMs });
  const content = new RegistryContent(prisma, { referrersPageSize: options.referrersPageSize });
  const pullThrough = new PullThroughCache({
    prisma,
    content,
    remotes,
    locks,
    marks: new PullThroughMarks(redis, config.redisPrefix),
    lists: new UpstreamLists({
      redis,
      prefix: `${config.redisPrefix}:pull-through`,
      logger,
      negativeTtlMs: config.pullThrough.negativeTtlSeconds * 1000,
    }),
    local: storage,
    logger,
    maxManifestBytes: config.manifestMaxBytes,
    recheckTimeoutMs: config.pullThrough.recheckTimeoutMs,
    negativeTtlSeconds: config.pullThrough.negativeTtlSeconds,
    pollMs: options.fetchPollMs,
    referrersPageSize: options.referrersPageSize,
  });
  const tokens = new PullTokens({ secretKey, publicUrl: config.publicUrl, service: new URL(config.publicUrl).host });
  return {
    directory,
    content,
    pullThrough,
    blobs,
    auth: new RegistryAuth(tokens, new TokenService(prisma, config.adminToken), directory),
    logger,
  };
}
