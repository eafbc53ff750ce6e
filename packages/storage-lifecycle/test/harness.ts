import { randomBytes, randomUUID } from 'node:crypto';
import { createLogger } from '@cistern/config';
import { contentTasks } from '@cistern/content-actions';
import { createRepository, openDatabase, type Database, type Remote, type Repository, type Task } from '@cistern/db';
import { createRedis, createTaskQueue, createTaskWorker, redisConnectionOptions, TaskService, type TaskParamsOf } from '@cistern/queue';
import { repositoryVersionHref, syncPlanHref } from '@cistern/runtime';
import { FilesystemBlobStore } from '@cistern/storage';
import { syncTask } from '@cistern/sync';
import {
  createTestDatabase,
  createTestRedisPrefix,
  makeTempDir,
  removeDir,
  startSyntheticUpstream,
  TEST_REDIS_URL,
  type SyntheticUpstream,
  type TestDatabase,
} from '@cistern/testkit';
import type { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { orphanCleanupTask, reclaimSpaceTask } from '../src/index.ts';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const kinds = [syncTask, ...contentTasks, orphanCleanupTask, reclaimSpaceTask] as const;
type Kind = (typeof kinds)[number];

/** An image the synthetic upstream serves: its manifest digest and its blobs (config, then layers). */
export interface UpstreamImage {
  digest: string;
  blobs: string[];
}

/**
 * Real PostgreSQL, Redis, a filesystem store, a synthetic upstream and an
 * in-process task worker running the real sync, content, cleanup and reclaim tasks.
 */
export class LifecycleHarness {
  db!: Database;
  storage!: FilesystemBlobStore;
  upstream!: SyntheticUpstream;
  private testDb!: TestDatabase;
  private dir!: string;
  private queue!: Queue;
  private redis!: Redis;
  private worker!: Worker;
  private service!: TaskService<Kind>;
  private readonly redisPrefix = createTestRedisPrefix();

  async start(): Promise<void> {
    this.testDb = await createTestDatabase();
    this.db = await openDatabase({ databaseUrl: this.testDb.url, dataDir: '/nonexistent', allowEmbedded: false });
    this.dir = await makeTempDir('lifecycle');
    this.storage = new FilesystemBlobStore(this.dir);
    await this.storage.assertWritable();
    this.upstream = await startSyntheticUpstream();
    const connection = redisConnectionOptions(TEST_REDIS_URL);
    const { prefix } = this.redisPrefix;
    this.queue = createTaskQueue({ connection, prefix });
    this.redis = createRedis(TEST_REDIS_URL);
    this.service = new TaskService(this.db.prisma, this.queue, kinds, createLogger({ logLevel: 'silent' }));
    const prisma = this.db.prisma;
    this.worker = createTaskWorker({
      prisma,
      connection,
      queue: this.queue,
      redis: this.redis,
      logger: createLogger({ logLevel: 'silent' }),
      name: 'lifecycle-worker',
      prefix,
      concurrency: 4,
      busyRetryDelayMs: 100,
      tasks: [
        syncTask.bind({
          prisma,
          storage: this.storage,
          secretKey: randomBytes(32),
          maxManifestBytes: 4 << 20,
          versionHref: repositoryVersionHref,
          planHref: syncPlanHref,
        }),
        ...contentTasks.map((task) => task.bind({ prisma, versionHref: repositoryVersionHref })),
        orphanCleanupTask.bind({ prisma, storage: this.storage }),
        reclaimSpaceTask.bind({ prisma, storage: this.storage }),
      ],
    });
  }

  async stop(): Promise<void> {
    await this.worker?.close();
    await this.queue?.close();
    this.redis?.disconnect();
    await this.redisPrefix.cleanup();
    await this.upstream?.stop();
    await this.db?.close();
    await this.testDb?.drop();
    await removeDir(this.dir);
  }

  /** An image of one config and `layers` layers (given bytes, or fresh random ones) under `tag`. */
  image(repo: string, tag: string, layers: Buffer[] = [randomBytes(2048)]): UpstreamImage {
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', tag, nonce: randomUUID() }));
    const configDigest = this.upstream.addBlob(repo, config);
    const layerDigests = layers.map((layer) => this.upstream.addBlob(repo, layer));
    const bytes = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
        layers: layers.map((layer, i) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigests[i], size: layer.length })),
      }),
    );
    return { digest: this.upstream.addManifest(repo, bytes, OCI_MANIFEST, [tag]), blobs: [configDigest, ...layerDigests] };
  }

  remote(upstreamName: string, includes: string[] = []): Promise<Remote> {
    return this.db.prisma.remote.create({ data: { name: `remote-${randomUUID()}`, url: this.upstream.url, upstreamName, includes, maxRetries: 1 } });
  }

  repository(retainVersions: number | null = null): Promise<Repository> {
    return createRepository(this.db.prisma, { name: `repo-${randomUUID()}`, retainVersions });
  }

  /** Runs a task of `kind` through the queue and the worker; resolves once it finished, whatever its state. */
  async run<N extends Kind['name']>(kind: N, params: TaskParamsOf<Kind, N>, resource?: string): Promise<Task> {
    const { task } = await this.service.create({ kind, params, ...(resource ? { resource } : {}) } as never);
    for (;;) {
      const row = await this.db.prisma.task.findUniqueOrThrow({ where: { id: task.id } });
      if (['completed', 'failed', 'canceled'].includes(row.state)) return row;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** A mirror (or additive) sync of `repository` from `remote`, which must complete. */
  async sync(repository: Repository, remote: Remote, mirror = true): Promise<Task> {
    const task = await this.run('sync', { repositoryId: repository.id, remoteId: remote.id, mirror }, `repository:${repository.id}`);
    if (task.state !== 'completed') throw new Error(`sync ${task.state}: ${JSON.stringify(task.error)}`);
    return task;
  }

  /** An orphan cleanup task's result. */
  async cleanup(protectionTimeMinutes: number, dryRun = false): Promise<Record<string, unknown>> {
    const task = await this.run('orphan-cleanup', { protectionTimeMinutes, dryRun }, 'storage');
    if (task.state !== 'completed') throw new Error(`cleanup ${task.state}: ${JSON.stringify(task.error)}`);
    return task.result as Record<string, unknown>;
  }

  /** A reclaim-space task, which must complete. */
  async reclaim(repositories: Repository[], keepVersions?: number): Promise<Task> {
    const params = { repositories: repositories.map((r) => r.id), ...(keepVersions === undefined ? {} : { keepVersions }) };
    const task = await this.run('reclaim-space', params as TaskParamsOf<Kind, 'reclaim-space'>, 'storage');
    if (task.state !== 'completed') throw new Error(`reclaim ${task.state}: ${JSON.stringify(task.error)}`);
    return task;
  }

  /** Whether a blob has its row and its file. */
  async blobKept(digest: string): Promise<{ row: boolean; file: boolean }> {
    const row = await this.db.prisma.blob.findUnique({ where: { digest } });
    return { row: row !== null, file: await this.storage.exists(digest) };
  }

  /** A blob's row (whether it says stored, or null when there is none) and whether its file exists. */
  async blobState(digest: string): Promise<{ stored: boolean | null; file: boolean }> {
    const row = await this.db.prisma.blob.findUnique({ where: { digest } });
    return { stored: row?.stored ?? null, file: await this.storage.exists(digest) };
  }

  /** A distribution serving version `number` of `repository`, pinned. */
  async pin(repository: Repository, number: number) {
    const version = await this.db.prisma.repositoryVersion.findUniqueOrThrow({ where: { repositoryId_number: { repositoryId: repository.id, number } } });
    return this.db.prisma.distribution.create({
      data: { name: `dist-${randomUUID()}`, basePath: `pinned-${randomUUID()}`, repositoryVersionId: version.id },
    });
  }

  async manifestKept(digest: string): Promise<boolean> {
    return (await this.db.prisma.manifest.findUnique({ where: { digest } })) !== null;
  }

  /** Makes every content row look last used `minutes` ago (time passing, without waiting for it). */
  async age(minutes: number): Promise<void> {
    await this.db.prisma.$executeRaw`UPDATE "Blob" SET "lastUsedAt" = "lastUsedAt" - make_interval(mins => ${minutes}::int)`;
    await this.db.prisma.$executeRaw`UPDATE "Manifest" SET "lastUsedAt" = "lastUsedAt" - make_interval(mins => ${minutes}::int)`;
  }
}
