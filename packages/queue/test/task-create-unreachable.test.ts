import { isCisternError } from '@cistern/errors';
import { startOwnRedis } from '@cistern/testkit';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeQueue } from '../src/producer-queue.ts';
import { FAIL_FAST_REDIS, producerConnectionOptions } from '../src/redis.ts';
import { createTaskQueue } from '../src/task-queue.ts';
import { TaskService } from '../src/task-service.ts';
import { syncKind } from './fixtures/sync-kind.ts';
import { Harness } from './harness.ts';

// Queues on producer connections (as the API makes them), each on a Redis of its own that is not there or is killed.
const h = new Harness();
beforeAll(() => h.start());
afterAll(() => h.stop());

describe('creating a task while Redis is unreachable', () => {
  it('refuses at once, recording nothing, while the queue cannot reach Redis', async () => {
    const deadQueue = new Queue('tasks', { connection: { url: 'redis://127.0.0.1:1', ...FAIL_FAST_REDIS, retryStrategy: () => null }, prefix: h.prefix });
    deadQueue.on('error', () => undefined);
    try {
      const params = h.syncParams();
      const refused = await new TaskService(h.db.prisma, deadQueue, [syncKind], h.logger).create({ kind: 'sync', params }).catch((error: unknown) => error);
      expect(isCisternError(refused, 'REDIS_UNAVAILABLE') && refused.retryable).toBe(true);
      expect((refused as Error).message).toBe('Redis is unreachable: cannot queue the task now; try again once it is back');
      expect(await h.db.prisma.task.count({ where: { params: { equals: params } } })).toBe(0);
    } finally {
      await deadQueue.close().catch(() => undefined);
    }
  });

  it('marks the task failed and says so when Redis goes between its row and its job', async () => {
    const server = await startOwnRedis();
    const queue = createTaskQueue({ connection: producerConnectionOptions(server.url), prefix: h.prefix });
    queue.on('error', () => undefined);
    try {
      await queue.waitUntilReady();
      const params = h.syncParams();
      // Killed just before: the connection still looks ready when create checks it, and is gone by the time the row is written.
      server.server.process.kill('SIGKILL');
      const refused = await new TaskService(h.db.prisma, queue, [syncKind], h.logger).create({ kind: 'sync', params }).catch((error: unknown) => error);
      const task = await h.db.prisma.task.findFirstOrThrow({ where: { params: { equals: params } } });
      expect([task.state, task.error]).toEqual(['failed', expect.objectContaining({ code: 'ENQUEUE_FAILED' })]);
      expect(isCisternError(refused, 'REDIS_UNAVAILABLE') && refused.detail).toEqual([
        { code: 'ENQUEUE_FAILED', message: `task ${task.id} was recorded just before and is now failed (ENQUEUE_FAILED): it will not run` },
      ]);
    } finally {
      await closeQueue(queue);
      await server.stop();
    }
  });

  it('marks the task failed, and returns it, when Redis answers but refuses its job', async () => {
    const server = await startOwnRedis();
    const queue = createTaskQueue({ connection: producerConnectionOptions(server.url), prefix: h.prefix });
    queue.on('error', () => undefined);
    const admin = new Redis(server.url);
    try {
      await queue.waitUntilReady();
      // No outage: Redis refuses the Lua scripts BullMQ adds jobs with (NOPERM).
      await admin.acl('SETUSER', 'default', '-@scripting');
      const { task } = await new TaskService(h.db.prisma, queue, [syncKind], h.logger).create({ kind: 'sync', params: h.syncParams() });
      expect([task.state, task.error]).toEqual(['failed', expect.objectContaining({ code: 'ENQUEUE_FAILED' })]);
    } finally {
      admin.disconnect();
      await closeQueue(queue);
      await server.stop();
    }
  });
});
