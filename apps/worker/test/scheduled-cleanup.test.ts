import { loadConfig } from '@cistern/config';
import { openResources, type Resources } from '@cistern/runtime';
import { createTestDatabase, createTestRedisPrefix, makeTempDir, removeDir, TEST_REDIS_URL, type TestDatabase, waitFor } from '@cistern/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorker, taskRunners, type RunningWorker } from '../src/index.ts';

let testDb: TestDatabase;
let dataDir: string;
let resources: Resources;
let worker: RunningWorker | undefined;
const redis = createTestRedisPrefix();

beforeAll(async () => {
  testDb = await createTestDatabase();
  dataDir = await makeTempDir('worker-schedules');
  const config = loadConfig({
    DATABASE_URL: testDb.url,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: redis.prefix,
    DATA_DIR: dataDir,
    SECRET_KEY: 'cd'.repeat(32),
    LOG_LEVEL: 'silent',
  });
  resources = await openResources(config, { allInOne: false });
});
afterAll(async () => {
  await worker?.close();
  await resources?.close();
  await testDb?.drop();
  await redis.cleanup();
  await removeDir(dataDir);
});

describe('the worker runs schedules of every kind', () => {
  it('an orphan-cleanup schedule found at boot ticks each second into a cleanup that completes with its result', async () => {
    const { prisma } = resources.db;
    const schedule = await prisma.schedule.create({
      data: { name: 'every-second', kind: 'orphan-cleanup', cron: '* * * * * *', params: { protectionTimeMinutes: 5, dryRun: true } },
    });
    // Boot restores the schedule's job scheduler from its row; the worker's own TaskService and runners do the rest.
    worker = await startWorker(resources, { tasks: taskRunners(resources), port: 0 });
    const task = await waitFor(
      'a completed scheduled cleanup',
      () => prisma.task.findFirst({ where: { kind: 'orphan-cleanup', state: 'completed' } }).then((t) => t ?? undefined),
      10_000,
    );
    expect(task).toMatchObject({
      resource: 'storage',
      params: { protectionTimeMinutes: 5, dryRun: true },
      result: { dryRun: true, protectionTimeMinutes: 5, manifests: 0, blobs: 0, remoteArtifacts: 0, bytesFreed: 0 },
    });
    expect((await prisma.schedule.findUniqueOrThrow({ where: { id: schedule.id } })).lastTaskId).not.toBeNull();
  });
});
