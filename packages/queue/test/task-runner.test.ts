import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@cistern/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { reconcileTasks } from '../src/reconcile.ts';
import { TaskError } from '../src/task-errors.ts';
import { repositoryResource } from '../src/repository-resource.ts';
import { TaskStateError } from '../src/task-service.ts';
import { Harness } from './harness.ts';

const h = new Harness();
beforeAll(() => h.start());
afterAll(() => h.stop());
afterEach(async () => {
  await h.closeWorkers();
  // Each test starts from an empty queue: leftover jobs would be taken by the next test's worker.
  await h.queue.obliterate({ force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('task runner', () => {
  it('creates the task row, then a job whose id is the task id, and runs it to completed', async () => {
    const params = h.syncParams();
    h.worker({
      sync: async (ctx) => {
        expect(ctx.params).toEqual(params);
        ctx.report('tags', { message: 'tags listed', done: 3, total: 3, state: 'completed' });
        ctx.increment('manifests', 2, 'Manifests stored.');
        return { createdResources: ['/api/v1/repositories/x/versions/1/'] };
      },
    });
    const { task, created } = await h.service.create({ kind: 'sync', params, resource: repositoryResource(params.repositoryId) });
    expect(created).toBe(true);
    expect(task.state).toBe('waiting');
    expect((await h.queue.getJob(task.id))?.data).toEqual({ taskId: task.id });
    const done = await h.waitForState(task.id, ['completed', 'failed']);
    expect(done.state).toBe('completed');
    expect(done.createdResources).toEqual(['/api/v1/repositories/x/versions/1/']);
    expect(done.progressReports).toEqual([
      { code: 'tags', message: 'tags listed', done: 3, total: 3, state: 'completed' },
      // Left running by its handler, it ends with its task: a finished task shows nothing in progress.
      { code: 'manifests', message: 'Manifests stored.', done: 2, total: null, state: 'completed' },
    ]);
    expect(done.worker).toMatch(/^test-worker-/);
    expect(done.startedAt?.getTime()).toBeLessThanOrEqual(done.finishedAt?.getTime() ?? 0);
  });

  it('records a permanent failure with its code and does not retry', async () => {
    let calls = 0;
    h.worker({
      sync: async (ctx) => {
        calls += 1;
        ctx.report('manifests', { message: 'Manifests stored.', done: 1 });
        throw new TaskError('MANIFEST_INVALID', 'the manifest is not JSON', { detail: { digest: 'sha256:abc' } });
      },
    });
    const { task } = await h.service.create({ kind: 'sync', params: h.syncParams() });
    const done = await h.waitForState(task.id, ['completed', 'failed']);
    expect(done.state).toBe('failed');
    expect(done.error).toEqual({ code: 'MANIFEST_INVALID', message: 'the manifest is not JSON', detail: { digest: 'sha256:abc' } });
    expect(done.progressReports).toEqual([{ code: 'manifests', message: 'Manifests stored.', done: 1, total: null, state: 'failed' }]);
    await sleep(300);
    expect(calls).toBe(1);
  });

  it('retries a retryable failure and completes', async () => {
    let calls = 0;
    const states: string[] = [];
    h.worker({
      sync: async (ctx) => {
        calls += 1;
        states.push((await h.db.prisma.task.findUniqueOrThrow({ where: { id: ctx.taskId } })).state);
        if (calls === 1) throw new TaskError('UPSTREAM_UNAVAILABLE', 'upstream answered 503', { retryable: true });
      },
    });
    const { task } = await h.service.create({ kind: 'sync', params: h.syncParams() });
    const done = await h.waitForState(task.id, ['completed', 'failed']);
    expect(done.state).toBe('completed');
    expect(calls).toBe(2);
    expect(states).toEqual(['running', 'running']);
  });

  it('fails after the last attempt of a retryable error', async () => {
    h.worker({ sync: async () => Promise.reject(new TaskError('UPSTREAM_UNAVAILABLE', 'still 503', { retryable: true })) });
    const { task } = await h.service.create({ kind: 'sync', params: h.syncParams() });
    const done = await h.waitForState(task.id, ['failed', 'completed']);
    expect(done.error).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    // The task row fails before BullMQ records the job's last attempt.
    await waitFor('the job to fail', async () => (await h.queue.getJobState(task.id)) === 'failed');
    expect((await h.queue.getJob(task.id))?.attemptsMade).toBe(3);
  });

  it('cancels a waiting task at once and removes its job', async () => {
    const { task } = await h.service.create({ kind: 'sync', params: h.syncParams() });
    const canceled = await h.service.cancel(task.id);
    expect(canceled.state).toBe('canceled');
    expect(canceled.finishedAt).toBeInstanceOf(Date);
    expect(await h.queue.getJob(task.id)).toBeUndefined();
    let ran = false;
    h.worker({ sync: async () => void (ran = true) });
    await sleep(500);
    expect(ran).toBe(false);
  });

  it('cancels a running task at its next safe point', async () => {
    let checkpoints = 0;
    h.worker({
      sync: async (ctx) => {
        for (;;) {
          ctx.checkpoint();
          checkpoints += 1;
          ctx.increment('steps', 1, 'Steps done.');
          await sleep(20);
        }
      },
    });
    const { task } = await h.service.create({ kind: 'sync', params: h.syncParams() });
    await h.waitForState(task.id, ['running']);
    expect((await h.service.cancel(task.id)).state).toBe('canceling');
    const done = await h.waitForState(task.id, ['canceled', 'failed', 'completed']);
    expect(done.state).toBe('canceled');
    expect(done.progressReports).toEqual([expect.objectContaining({ code: 'steps', state: 'canceled' })]);
    expect(checkpoints).toBeGreaterThan(0);
    await expect(h.service.cancel(task.id)).resolves.toMatchObject({ state: 'canceled' });
  });

  it('refuses to cancel a finished task', async () => {
    h.worker({ sync: async () => undefined });
    const { task } = await h.service.create({ kind: 'sync', params: h.syncParams() });
    await h.waitForState(task.id, ['completed']);
    await expect(h.service.cancel(task.id)).rejects.toBeInstanceOf(TaskStateError);
  });

  it('runs one task per resource at a time; the second waits without failing', async () => {
    let running = 0;
    let maxRunning = 0;
    const order: string[] = [];
    h.worker(
      {
        sync: async (ctx) => {
          running += 1;
          maxRunning = Math.max(maxRunning, running);
          order.push(`start ${ctx.taskId}`);
          await sleep(600);
          order.push(`end ${ctx.taskId}`);
          running -= 1;
        },
      },
      { concurrency: 4 },
    );
    const params = h.syncParams();
    const resource = repositoryResource(params.repositoryId);
    const first = await h.service.create({ kind: 'sync', params, resource });
    const second = await h.service.create({ kind: 'sync', params: { ...params, mirror: true }, resource });
    const [a, b] = await Promise.all([h.waitForState(first.task.id, ['completed', 'failed']), h.waitForState(second.task.id, ['completed', 'failed'])]);
    expect([a.state, b.state]).toEqual(['completed', 'completed']);
    expect(maxRunning).toBe(1);
    expect(order[1]).toMatch(/^end /);
    expect((await h.queue.getJob(second.task.id))?.attemptsMade ?? 0).toBeLessThanOrEqual(1);
  });

  it('runs the tasks on one resource in the order they were submitted, even when the first one found the resource busy', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const numbers = new Map<string, number>();
    const ran: number[] = [];
    h.worker(
      {
        sync: async (ctx) => {
          const number = numbers.get(ctx.taskId);
          if (number === undefined) await held;
          else ran.push(number);
          await sleep(20);
        },
      },
      // Longer than the whole test may take: each task must wake the next, not leave it to its retry.
      { concurrency: 4, busyRetryDelayMs: 10_000 },
    );
    const params = h.syncParams();
    const resource = repositoryResource(params.repositoryId);
    const holder = await h.service.create({ kind: 'sync', params, resource });
    await h.waitForState(holder.task.id, ['running']);
    const submit = async (number: number) => {
      const { task } = await h.service.create({ kind: 'sync', params: { ...params, mirror: number % 2 === 0 }, resource });
      numbers.set(task.id, number);
      return task.id;
    };
    const first = await submit(1);
    // The first one tried while the resource was busy and waits for its next try; the rest come after the resource is free.
    await waitFor('the first task to find the resource busy', async () => (await h.queue.getJobState(first)) === 'delayed');
    release();
    await h.waitForState(holder.task.id, ['completed']);
    const rest = [];
    for (let number = 2; number <= 5; number++) rest.push(await submit(number));
    for (const id of [first, ...rest]) expect((await h.waitForState(id, ['completed', 'failed'], 5000)).state).toBe('completed');
    expect(ran).toEqual([1, 2, 3, 4, 5]);
  });

  it('returns the waiting task for an identical request, even when requests race', async () => {
    const params = h.syncParams();
    const resource = repositoryResource(params.repositoryId);
    const results = await Promise.all(Array.from({ length: 5 }, () => h.service.create({ kind: 'sync', params, resource, dedupe: true })));
    const ids = new Set(results.map((r) => r.task.id));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const other = await h.service.create({ kind: 'sync', params: { ...params, mirror: true }, resource, dedupe: true });
    expect(other.created).toBe(true);
    expect(await h.db.prisma.task.count({ where: { resource } })).toBe(2);
  });

  it('queues the waiting twin again when Redis lost its job, instead of answering with a task that never runs', async () => {
    const params = h.syncParams();
    const resource = repositoryResource(params.repositoryId);
    const first = await h.service.create({ kind: 'sync', params, resource, dedupe: true });
    await h.queue.obliterate({ force: true });
    const again = await h.service.create({ kind: 'sync', params, resource, dedupe: true });
    expect(again).toMatchObject({ created: false, task: { id: first.task.id, state: 'waiting' } });
    expect((await h.queue.getJob(first.task.id))?.data).toEqual({ taskId: first.task.id });
    h.worker({ sync: async () => undefined });
    expect((await h.waitForState(first.task.id, ['completed', 'failed'])).state).toBe('completed');
  });

  it('queues a running task again when Redis restarted empty under it, and runs it to completed', async () => {
    let runs = 0;
    h.worker({
      sync: async (ctx) => {
        runs += 1;
        if (runs > 1) return { createdResources: ['/after-restart/'] };
        await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
        ctx.checkpoint();
        return undefined;
      },
    });
    const params = h.syncParams();
    const { task } = await h.service.create({ kind: 'sync', params, resource: repositoryResource(params.repositoryId) });
    await h.waitForState(task.id, ['running']);
    // What a restart of a Redis that keeps nothing on disk does to this file's keys.
    await h.forgetRedisKeys();
    const done = await h.waitForState(task.id, ['completed', 'failed'], 15_000);
    expect(done).toMatchObject({ state: 'completed', createdResources: ['/after-restart/'] });
    expect(runs).toBe(2);
  });

  it('recovers a job whose worker was killed with SIGKILL mid-job', async () => {
    const params = h.syncParams();
    const { task } = await h.service.create({ kind: 'sync', params, resource: repositoryResource(params.repositoryId) });
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('./fixtures/hanging-worker.ts', import.meta.url)), h.databaseUrl, h.prefix],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('started') && resolve());
      child.on('exit', (code) => reject(new Error(`worker exited early with ${code}`)));
    });
    expect((await h.db.prisma.task.findUniqueOrThrow({ where: { id: task.id } })).worker).toBe('doomed-worker');
    child.kill('SIGKILL');
    let resumedWith: unknown;
    h.worker({
      sync: async (ctx) => {
        resumedWith = ctx.progressReports;
        return { createdResources: ['/done/'] };
      },
    });
    const done = await h.waitForState(task.id, ['completed', 'failed'], 25_000);
    expect(done.state).toBe('completed');
    expect(done.createdResources).toEqual(['/done/']);
    // The recovered run starts from the beginning, so it counts afresh: carrying the dead run's counts would count its work twice.
    expect(resumedWith).toEqual([]);
  }, 40_000);

  it('fails a task at the third worker death with an error in its own words', async () => {
    const { task } = await h.service.create({ kind: 'sync', params: h.syncParams() });
    for (let death = 1; death <= 3; death++) {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', fileURLToPath(new URL('./fixtures/hanging-worker.ts', import.meta.url)), h.databaseUrl, h.prefix],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('started') && resolve());
        child.on('exit', (code) => reject(new Error(`worker exited early with ${code}`)));
      });
      child.kill('SIGKILL');
    }
    let ran = false;
    h.worker({ sync: async () => void (ran = true) });
    const done = await h.waitForState(task.id, ['failed', 'completed'], 25_000);
    expect(done).toMatchObject({ state: 'failed', error: { code: 'WORKER_DIED' } });
    expect((done.error as { message: string }).message).toMatch(/^a worker stopped while running this task 3 times; /);
    expect(ran).toBe(false);
  }, 60_000);

  it('reconciles at boot: re-enqueues waiting tasks Redis lost, fails running ones whose job is gone', async () => {
    const lostWaiting = await h.db.prisma.task.create({ data: { kind: 'sync', params: h.syncParams() } });
    const progressReports = [{ code: 'steps', message: 'Steps done.', done: 1, total: null, state: 'running' }];
    const lostRunning = await h.db.prisma.task.create({ data: { kind: 'sync', state: 'running', params: h.syncParams(), progressReports } });
    const lostCanceling = await h.db.prisma.task.create({ data: { kind: 'sync', state: 'canceling', params: h.syncParams() } });
    const afterReconnect = await reconcileTasks(h.db.prisma, h.queue, { closeOrphans: false, log: h.logger });
    expect(afterReconnect).toMatchObject({ failed: [], canceled: [] });
    expect(afterReconnect.requeued).toContain(lostWaiting.id);
    expect((await h.db.prisma.task.findUniqueOrThrow({ where: { id: lostRunning.id } })).state).toBe('running');
    await h.queue.remove(lostWaiting.id);
    const result = await reconcileTasks(h.db.prisma, h.queue, { closeOrphans: true, log: h.logger });
    expect(result.requeued).toContain(lostWaiting.id);
    expect(result.failed).toContain(lostRunning.id);
    expect(result.canceled).toContain(lostCanceling.id);
    expect((await h.queue.getJob(lostWaiting.id))?.data).toEqual({ taskId: lostWaiting.id });
    expect(await h.db.prisma.task.findUniqueOrThrow({ where: { id: lostRunning.id } })).toMatchObject({
      state: 'failed',
      error: { code: 'WORKER_LOST' },
      progressReports: [{ ...progressReports[0], state: 'failed' }],
    });
    expect((await reconcileTasks(h.db.prisma, h.queue, { closeOrphans: true, log: h.logger })).requeued).not.toContain(lostWaiting.id);
    h.worker({ sync: async () => undefined });
    expect((await h.waitForState(lostWaiting.id, ['completed', 'failed'])).state).toBe('completed');
  });
});

describe('worker shutdown', () => {
  it('puts a task in flight back to waiting, with its progress and no attempt used, for the next worker to resume', async () => {
    let runs = 0;
    const worker = h.worker({
      sync: async (ctx) => {
        runs += 1;
        ctx.report('test.step', { message: 'the first step is done', done: 1, total: 2 });
        if (runs > 1) return;
        await new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted mid-request'))));
      },
    });
    const { task } = await h.service.create({ kind: 'sync', params: h.syncParams() });
    await h.waitForState(task.id, ['running']);
    const t0 = performance.now();
    await worker.close();
    expect(performance.now() - t0).toBeLessThan(2000);
    const waiting = await h.db.prisma.task.findUniqueOrThrow({ where: { id: task.id } });
    expect(waiting).toMatchObject({ state: 'waiting', worker: null, error: null });
    expect(waiting.progressReports).toEqual([expect.objectContaining({ code: 'test.step', done: 1 })]);
    const job = await h.queue.getJob(task.id);
    expect(await job?.getState()).toBe('waiting');
    expect(job?.attemptsMade).toBe(0);
    h.worker({ sync: async () => undefined });
    expect((await h.waitForState(task.id, ['completed', 'failed'])).state).toBe('completed');
  });

  it('lets a task that does not look at its signal finish before the worker closes', async () => {
    let finished = false;
    const worker = h.worker({
      sync: async () => {
        await sleep(700);
        finished = true;
      },
    });
    const { task } = await h.service.create({ kind: 'sync', params: h.syncParams() });
    await h.waitForState(task.id, ['running']);
    await worker.close();
    expect(finished).toBe(true);
    expect((await h.db.prisma.task.findUniqueOrThrow({ where: { id: task.id } })).state).toBe('completed');
  });
});

describe('bad task rows', () => {
  it('fails a task whose stored params no longer fit its kind, without leaving its resource locked', async () => {
    const resource = 'repository:params-test';
    const broken = await h.db.prisma.task.create({ data: { kind: 'sync', resource, params: { repositoryId: 'not-a-uuid' } } });
    await h.queue.add('sync', { taskId: broken.id }, { jobId: broken.id });
    h.worker({ sync: async () => undefined });
    expect(await h.waitForState(broken.id, ['failed', 'completed'])).toMatchObject({ state: 'failed', error: { code: 'TASK_PARAMS_INVALID' } });
    const { task } = await h.service.create({ kind: 'sync', params: h.syncParams(), resource });
    expect((await h.waitForState(task.id, ['completed', 'failed'], 5000)).state).toBe('completed');
  });
});
