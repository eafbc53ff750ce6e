import { randomUUID } from 'node:crypto';
import { createLogger } from '@cistern/config';
import { openDatabase, type Database } from '@cistern/db';
import { createTestDatabase, createTestRedisPrefix, TEST_REDIS_URL, type TestDatabase } from '@cistern/testkit';
import type { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { createRedis, redisConnectionOptions } from '../src/redis.ts';
import { createTaskQueue } from '../src/task-queue.ts';
import type { TaskHandler, TaskParams } from '../src/task-definition.ts';
import { TaskService } from '../src/task-service.ts';
import { createTaskWorker, type TaskWorkerOptions } from '../src/task-worker.ts';
import { syncKind } from './fixtures/sync-kind.ts';

/** Real PostgreSQL and Redis for one test file; short timings so stalls recover in seconds. */
export class Harness {
  db!: Database;
  queue!: Queue;
  service!: TaskService<typeof syncKind>;
  redis!: Redis;
  prefix = '';
  private testDb!: TestDatabase;
  private cleanupRedis!: () => Promise<void>;
  private workers: Worker[] = [];
  readonly logger = createLogger({ logLevel: 'silent' });

  async start(): Promise<void> {
    this.testDb = await createTestDatabase();
    const { prefix, cleanup } = createTestRedisPrefix();
    this.prefix = prefix;
    this.cleanupRedis = cleanup;
    this.db = await openDatabase({ databaseUrl: this.testDb.url, dataDir: '/nonexistent', allowEmbedded: false });
    this.redis = createRedis(TEST_REDIS_URL);
    this.queue = createTaskQueue({ connection: redisConnectionOptions(TEST_REDIS_URL), prefix, backoffMs: 100 });
    this.service = new TaskService(this.db.prisma, this.queue, [syncKind], this.logger);
  }

  get databaseUrl(): string {
    return this.testDb.url;
  }

  worker(handlers: { sync?: TaskHandler<TaskParams<typeof syncKind>> }, overrides: Partial<TaskWorkerOptions> = {}): Worker {
    const worker = createTaskWorker({
      prisma: this.db.prisma,
      connection: redisConnectionOptions(TEST_REDIS_URL),
      queue: this.queue,
      redis: this.redis,
      tasks: handlers.sync ? [{ kind: syncKind, run: handlers.sync }] : [],
      logger: this.logger,
      name: `test-worker-${this.workers.length}`,
      prefix: this.prefix,
      lockTtlMs: 3000,
      busyRetryDelayMs: 200,
      cancelPollMs: 100,
      progressFlushMs: 50,
      stalledIntervalMs: 1000,
      jobLockDurationMs: 2000,
      ...overrides,
    });
    this.workers.push(worker);
    return worker;
  }

  syncParams() {
    return { repositoryId: randomUUID(), remoteId: randomUUID(), mirror: false };
  }

  async waitForState(taskId: string, states: string[], timeoutMs = 20_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const task = await this.db.prisma.task.findUniqueOrThrow({ where: { id: taskId } });
      if (states.includes(task.state)) return task;
      if (Date.now() > deadline) throw new Error(`task ${taskId} stayed ${task.state}, wanted ${states.join('|')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Deletes every key under this file's prefix, as a restart of a Redis that keeps nothing on disk would. */
  forgetRedisKeys(): Promise<void> {
    return this.cleanupRedis();
  }

  async closeWorkers(): Promise<void> {
    await Promise.all(this.workers.splice(0).map((w) => w.close()));
  }

  async stop(): Promise<void> {
    await this.closeWorkers();
    await this.queue.close();
    this.redis.disconnect();
    await this.db.close();
    await this.testDb.drop();
    await this.cleanupRedis();
  }
}
