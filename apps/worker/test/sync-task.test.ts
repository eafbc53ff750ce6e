import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createLogger } from '@cistern/config';
import { createRepository, openDatabase, versionManifests, versionTags, type Database } from '@cistern/db';
import { createRedis, createTaskQueue, createTaskWorker, redisConnectionOptions, repositoryResource, TaskService } from '@cistern/queue';
import { repositoryVersionHref, syncPlanHref } from '@cistern/runtime';
import { FilesystemBlobStore } from '@cistern/storage';
import { Report, syncTask } from '@cistern/sync';
import {
  createTestDatabase,
  createTestRedisPrefix,
  makeTempDir,
  pushImage,
  pushMultiArch,
  removeDir,
  startDistribution,
  startFaultProxy,
  TEST_REDIS_URL,
  type Distribution,
  type FaultProxy,
  type TestDatabase,
  waitFor,
} from '@cistern/testkit';
import type { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let testDb: TestDatabase;
let db: Database;
let upstream: Distribution;
let proxy: FaultProxy;
let storageDir: string;
let queue: Queue;
let redis: Redis;
let service: TaskService<typeof syncTask>;
const secretKey = randomBytes(32);
const { prefix, cleanup } = createTestRedisPrefix();
const children: ChildProcess[] = [];
const workers: Worker[] = [];

beforeAll(async () => {
  testDb = await createTestDatabase();
  db = await openDatabase({ databaseUrl: testDb.url, dataDir: '/nonexistent', allowEmbedded: false });
  upstream = await startDistribution();
  proxy = await startFaultProxy(upstream.url);
  storageDir = await makeTempDir('worker-sync');
  queue = createTaskQueue({ connection: redisConnectionOptions(TEST_REDIS_URL), prefix, backoffMs: 200 });
  redis = createRedis(TEST_REDIS_URL);
  service = new TaskService(db.prisma, queue, [syncTask], createLogger({ logLevel: 'silent' }));
});
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await Promise.all(workers.map((w) => w.close()));
  await queue.close();
  redis.disconnect();
  await proxy.stop();
  await upstream.stop();
  await db.close();
  await testDb.drop();
  await removeDir(storageDir);
  await cleanup();
});

function startInProcessWorker(): Worker {
  const worker = createTaskWorker({
    prisma: db.prisma,
    connection: redisConnectionOptions(TEST_REDIS_URL),
    queue,
    redis,
    logger: createLogger({ logLevel: 'silent' }),
    name: 'survivor',
    prefix,
    lockTtlMs: 3000,
    stalledIntervalMs: 1000,
    jobLockDurationMs: 2000,
    tasks: [
      syncTask.bind({
        prisma: db.prisma,
        storage: new FilesystemBlobStore(storageDir),
        secretKey,
        maxManifestBytes: 4 * 1024 * 1024,
        versionHref: repositoryVersionHref,
        planHref: syncPlanHref,
      }),
    ],
  });
  workers.push(worker);
  return worker;
}

async function finished(taskId: string) {
  return waitFor(`task ${taskId}`, async () => {
    const task = await db.prisma.task.findUniqueOrThrow({ where: { id: taskId } });
    return ['completed', 'failed', 'canceled'].includes(task.state) ? task : undefined;
  });
}

describe('sync tasks on workers', () => {
  it('a worker killed with SIGKILL mid-sync: the job is recovered and writes the version a clean sync writes', async () => {
    const repo = 'worker/kill';
    for (let i = 0; i < 6; i++) await pushImage(upstream, repo, `v${i}`, { layers: [randomBytes(16 * 1024)] });
    await pushMultiArch(upstream, repo, 'multi');
    const remote = await db.prisma.remote.create({ data: { name: `r-${randomUUID()}`, url: proxy.url, upstreamName: repo, downloadConcurrency: 1 } });
    const killed = await createRepository(db.prisma, { name: `killed-${randomUUID()}` });
    const clean = await createRepository(db.prisma, { name: `clean-${randomUUID()}` });

    proxy.inject({ method: 'GET', kind: 'blob', fault: { type: 'delay', ms: 150 } });
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        fileURLToPath(new URL('./fixtures/sync-worker.ts', import.meta.url)),
        testDb.url,
        prefix,
        storageDir,
        secretKey.toString('hex'),
        'doomed',
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    children.push(child);
    await new Promise<void>((resolve) => child.stdout?.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()));
    const params = { repositoryId: killed.id, remoteId: remote.id, mirror: false };
    const { task } = await service.create({ kind: 'sync', params, resource: repositoryResource(killed.id) });
    await waitFor('some blobs downloaded', async () => {
      const row = await db.prisma.task.findUniqueOrThrow({ where: { id: task.id } });
      const reports = row.progressReports as { code: string; done: number }[];
      return (reports.find((r) => r.code === 'sync.blobs')?.done ?? 0) >= 2 ? true : undefined;
    });
    child.kill('SIGKILL');
    proxy.clearFaults();

    startInProcessWorker();
    const done = await finished(task.id);
    expect(done.state).toBe('completed');
    expect(done.createdResources).toEqual([`/api/v1/repositories/${killed.id}/versions/1`]);

    const second = await service.create({ kind: 'sync', params: { ...params, repositoryId: clean.id }, resource: repositoryResource(clean.id) });
    expect((await finished(second.task.id)).state).toBe('completed');
    expect(await versionManifests(db.prisma, killed.id, 1)).toEqual(await versionManifests(db.prisma, clean.id, 1));
    expect(await versionTags(db.prisma, killed.id, 1)).toEqual(await versionTags(db.prisma, clean.id, 1));
    expect((await versionTags(db.prisma, killed.id, 1)).size).toBe(7);
    // The recovered run counts afresh: each manifest of the version once, as new or as already stored, never twice.
    const manifests = (await versionManifests(db.prisma, killed.id, 1)).size;
    const reports = done.progressReports as { code: string; message: string; done: number; state: string }[];
    const count = (code: string) => reports.find((r) => r.code === code)?.done ?? 0;
    expect(count(Report.manifestsNew) + count(Report.manifestsUnchanged)).toBe(manifests);
    expect(reports.filter((r) => r.state === 'running' || r.message === r.code)).toEqual([]);
  }, 90_000);

  it('a sync against credentials that do not work fails the task with UNAUTHORIZED and no version', async () => {
    const secured = await startDistribution({ auth: 'htpasswd' });
    try {
      await pushImage(secured, 'private/app', 'v1');
      const remote = await db.prisma.remote.create({ data: { name: `r-${randomUUID()}`, url: secured.url, upstreamName: 'private/app', username: 'tester' } });
      const repository = await createRepository(db.prisma, { name: `denied-${randomUUID()}` });
      if (workers.length === 0) startInProcessWorker();
      const { task } = await service.create({ kind: 'sync', params: { repositoryId: repository.id, remoteId: remote.id, mirror: false } });
      const done = await finished(task.id);
      expect(done.state).toBe('failed');
      expect(done.error).toMatchObject({ code: 'UNAUTHORIZED' });
      expect(JSON.stringify(done)).not.toContain(secured.password);
      expect(await db.prisma.repositoryVersion.count({ where: { repositoryId: repository.id } })).toBe(1);
    } finally {
      await secured.stop();
    }
  });

  it("a sync from a remote of many mirrors the repository's upstreamName, and fails with UPSTREAM_NAME_MISSING when neither names one", async () => {
    await pushImage(upstream, 'many/app', 'v1');
    const remote = await db.prisma.remote.create({ data: { name: `many-${randomUUID()}`, url: upstream.url, upstreamName: null } });
    const named = await createRepository(db.prisma, { name: `named-${randomUUID()}`, upstreamName: 'many/app' });
    // What the API refuses when it is asked: here the repository lost its name after the request.
    const unnamed = await createRepository(db.prisma, { name: `unnamed-${randomUUID()}` });
    if (workers.length === 0) startInProcessWorker();
    const sync = async (repositoryId: string) =>
      finished((await service.create({ kind: 'sync', params: { repositoryId, remoteId: remote.id, mirror: false } })).task.id);
    const [mirrored, refused] = [await sync(named.id), await sync(unnamed.id)];
    expect(mirrored.state).toBe('completed');
    expect([...(await versionTags(db.prisma, named.id, 1)).keys()]).toEqual(['v1']);
    expect(refused).toMatchObject({ state: 'failed', error: { code: 'UPSTREAM_NAME_MISSING', message: expect.stringContaining(`remote "${remote.name}"`) } });
    expect(await db.prisma.repositoryVersion.count({ where: { repositoryId: unnamed.id } })).toBe(1);
  });

  it('a sync that mirrors none of the tags it selected completes with a NOTHING_MIRRORED warning on the task', async () => {
    const repo = 'worker/nothing';
    await pushImage(upstream, repo, 'sbom', { artifactType: 'application/spdx+json' });
    const remote = await db.prisma.remote.create({ data: { name: `r-${randomUUID()}`, url: upstream.url, upstreamName: repo } });
    const repository = await createRepository(db.prisma, { name: `nothing-${randomUUID()}` });
    // The installation's one policy row (a missing row means the defaults).
    await db.prisma.mediaTypePolicy.create({ data: { id: 'default', artifacts: false } });
    try {
      if (workers.length === 0) startInProcessWorker();
      const { task } = await service.create({ kind: 'sync', params: { repositoryId: repository.id, remoteId: remote.id, mirror: false } });
      const done = await finished(task.id);
      expect(done.state).toBe('completed');
      expect(done.warnings).toEqual([{ code: 'NOTHING_MIRRORED', message: expect.stringContaining('0 of 1 selected') }]);
      expect(done.createdResources).toEqual([]);
    } finally {
      await db.prisma.mediaTypePolicy.deleteMany();
    }
  });
});
