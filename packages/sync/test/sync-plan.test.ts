import { openDatabase, type Database } from '@cistern/db';
import { createTestDatabase, waitFor, type TestDatabase } from '@cistern/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SyncPlan } from '../src/sync-plan.ts';

let testDb: TestDatabase;
let db: Database;
beforeAll(async () => {
  testDb = await createTestDatabase();
  db = await openDatabase({ databaseUrl: testDb.url, dataDir: '/nonexistent', allowEmbedded: false });
});
afterAll(async () => {
  await db.close();
  await testDb.drop();
});

const tag = (i: number) => ({ kind: 'tag', change: 'added', name: `t${i}`, digest: `sha256:${String(i).padStart(64, '0')}` }) as const;

it('close() drops queued batches and waits for the one in flight: nothing lands after a run that failed or was canceled ends', async () => {
  const task = await db.prisma.task.create({ data: { kind: 'sync', resource: 'repository:r', params: { dryRun: true } } });
  const plan = new SyncPlan(db.prisma, task.id, 'repository:r');
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let locked!: () => void;
  const isLocked = new Promise<void>((resolve) => (locked = resolve));
  // Another session locks the table: the first batch's INSERT waits in flight, the second one queues behind it.
  const lock = db.prisma.$transaction(
    async (tx) => {
      await tx.$executeRawUnsafe('LOCK TABLE "SyncPlanEntry" IN EXCLUSIVE MODE');
      locked();
      await released;
    },
    { timeout: 30_000 },
  );
  await isLocked;
  for (let i = 0; i < 1000; i += 1) plan.add(tag(i));
  // Until the first INSERT waits on the lock.
  await waitFor('the first batch in flight', async () => {
    const [row] = await db.prisma.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM pg_stat_activity WHERE "datname" = current_database() AND "wait_event_type" = 'Lock' AND "query" LIKE 'INSERT INTO%SyncPlanEntry%'`;
    return row && row.n > 0 ? true : undefined;
  });
  let closed = false;
  const closing = plan.close().then(() => (closed = true));
  await new Promise((resolve) => setTimeout(resolve, 300));
  // The write in flight holds close() until it ends.
  expect(closed).toBe(false);
  release();
  await lock;
  await closing;
  const landed = await db.prisma.syncPlanEntry.count({ where: { taskId: task.id } });
  expect(landed).toBe(500);
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(await db.prisma.syncPlanEntry.count({ where: { taskId: task.id } })).toBe(landed);
});
