import { randomBytes, randomUUID } from 'node:crypto';
import { envSchema, sealSecret, createLogger } from '@cistern/config';
import { createRepository, openDatabase, type Database, type Prisma, type Remote, type Repository } from '@cistern/db';
import { DEFAULT_POLICY, type MediaTypePolicy } from '@cistern/oci';
import type { Resources } from '@cistern/runtime';
import { createRedisWatch } from '@cistern/queue';
import { FilesystemBlobStore } from '@cistern/storage';
import { syncedUpstreamName, syncRepository, type SyncProgress } from '@cistern/sync';
import { clientForRemote } from '@cistern/upstream';
import { TokenService } from '@cistern/auth';
import { createTestDatabase, createTestRedisPrefix, freePort, makeTempDir, removeDir, TEST_REDIS_URL, type TestDatabase } from '@cistern/testkit';
import { startRegistry, type RunningRegistry } from '../src/index.ts';
import type { RegistryOptions } from '../src/registry-options.ts';

/** Progress that records nothing: the registry tests only need the version a sync writes. */
const quietProgress: SyncProgress = {
  report: () => undefined,
  increment: () => undefined,
  checkpoint: () => undefined,
  signal: new AbortController().signal,
};

/**
 * One test file's Cistern: a fresh PostgreSQL database, a blob store in a
 * temp dir, its own Redis prefix, and registries started on free ports over
 * them (more than one to play several processes sharing Redis and storage).
 */
export class RegistryHarness {
  db!: Database;
  storage!: FilesystemBlobStore;
  resources!: Resources;
  readonly secretKey = randomBytes(32);
  private testDb!: TestDatabase;
  private dir!: string;
  private redisPrefix = createTestRedisPrefix();
  private running: RunningRegistry[] = [];

  async start(): Promise<void> {
    this.testDb = await createTestDatabase();
    this.db = await openDatabase({ databaseUrl: this.testDb.url, dataDir: '/nonexistent', allowEmbedded: false });
    this.dir = await makeTempDir('registry');
    this.storage = new FilesystemBlobStore(this.dir);
    await this.storage.assertWritable();
  }

  /** A registry process's app over the shared database, storage and Redis; its PUBLIC_URL is its own address. `env` adds settings. */
  async registry(options: RegistryOptions = {}, env: Record<string, string> = {}): Promise<RunningRegistry> {
    const port = await freePort();
    const config = envSchema.parse({
      DATABASE_URL: this.testDb.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: this.redisPrefix.prefix,
      STORAGE_DIR: this.dir,
      DATA_DIR: this.dir,
      HOST: '127.0.0.1',
      REGISTRY_PORT: String(port),
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      SHUTDOWN_TIMEOUT_MS: '1000',
      ...env,
    });
    const logger = createLogger(config);
    const resources: Resources = {
      config,
      logger,
      db: this.db,
      storage: this.storage,
      secretKey: this.secretKey,
      redisWatch: createRedisWatch(logger, TEST_REDIS_URL),
      close: async () => undefined,
    };
    this.resources = resources;
    const registry = await startRegistry(resources, port, {
      distributionTtlMs: 50,
      fetchPollMs: 20,
      clientOverrides: { retryBaseMs: 10, retryMaxMs: 50, maxRetries: 1 },
      ...options,
    });
    this.running.push(registry);
    return registry;
  }

  async stop(): Promise<void> {
    for (const r of this.running) await r.close();
    await this.redisPrefix.cleanup();
    await this.db.close();
    await this.testDb.drop();
    await removeDir(this.dir);
  }

  remote(data: Omit<Prisma.RemoteUncheckedCreateInput, 'name'> & { password?: string }): Promise<Remote> {
    const { password, ...rest } = data;
    return this.db.prisma.remote.create({
      data: { name: `remote-${randomUUID()}`, ...rest, ...(password ? { passwordEncrypted: sealSecret(this.secretKey, password) } : {}) },
    });
  }

  /** A repository keeping the newest `retainVersions` versions (null: all). */
  repository(retainVersions: number | null = null): Promise<Repository> {
    return createRepository(this.db.prisma, { name: `repo-${randomUUID()}`, retainVersions });
  }

  /** A real sync of the remote into the repository (a new version, if anything changed). */
  async sync(remote: Remote, repository: Repository, mirror = false, mediaTypePolicy: MediaTypePolicy = DEFAULT_POLICY): Promise<number | null> {
    const client = clientForRemote({ ...remote, upstreamName: syncedUpstreamName(repository, remote) }, this.secretKey, {
      retryBaseMs: 10,
      retryMaxMs: 50,
    });
    const result = await syncRepository(
      { prisma: this.db.prisma, storage: this.storage, client, progress: quietProgress },
      { repositoryId: repository.id, remote, mirror, mediaTypePolicy, maxManifestBytes: 4 * 1024 * 1024 },
    );
    return result.version;
  }

  /** Remote + repository + sync + distribution in one step; returns the repository. */
  async mirror(
    url: string,
    upstreamName: string,
    basePath: string,
    options: { policy?: Remote['policy']; private?: boolean; includes?: string[]; mediaTypes?: MediaTypePolicy } = {},
  ): Promise<{ remote: Remote; repository: Repository }> {
    const remote = await this.remote({ url, upstreamName, policy: options.policy ?? 'immediate', includes: options.includes ?? [] });
    const repository = await this.repository();
    await this.sync(remote, repository, false, options.mediaTypes);
    await this.distribution(basePath, repository.id, options.private ?? false);
    return { remote, repository };
  }

  distribution(basePath: string, repositoryId: string, isPrivate = false) {
    return this.db.prisma.distribution.create({ data: { name: `dist-${randomUUID()}`, basePath, repositoryId, private: isPrivate } });
  }

  async pullToken(distributionIds: string[] | 'all'): Promise<string> {
    const service = new TokenService(this.db.prisma);
    const created = await service.create({
      name: `token-${randomUUID()}`,
      scope: 'pull',
      ...(distributionIds === 'all' ? { allDistributions: true } : { distributionIds }),
    });
    return created.secret;
  }
}
