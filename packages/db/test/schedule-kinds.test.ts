import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/database.ts';
import { createRepository } from '../src/index.ts';
import { backends } from './backends.ts';

describe.each(backends)('schedule kinds on $name', (backend) => {
  let db: Database;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ db, cleanup } = await backend.open());
  });
  afterAll(() => cleanup());

  const schedule = (data: { kind?: string; repositoryId?: string; params?: object }) =>
    db.prisma.schedule.create({ data: { name: `s-${randomUUID()}`, cron: '* * * * *', ...data } });

  it('refuses a sync schedule without a repository, the default kind included', async () => {
    await expect(schedule({})).rejects.toThrow(/Schedule_sync_repository_check/);
    await expect(schedule({ kind: 'sync' })).rejects.toThrow(/Schedule_sync_repository_check/);
    expect(await schedule({ kind: 'orphan-cleanup', params: { protectionTimeMinutes: 60 } })).toMatchObject({
      repositoryId: null,
      mirror: false,
      params: { protectionTimeMinutes: 60 },
    });
  });

  it('a repository deleted takes its sync schedules along and leaves the others', async () => {
    const repository = await createRepository(db.prisma, { name: `repo-${randomUUID()}` });
    const sync = await schedule({ repositoryId: repository.id });
    expect(sync).toMatchObject({ kind: 'sync', params: {} });
    const cleanupSchedule = await schedule({ kind: 'orphan-cleanup' });
    await db.prisma.repository.delete({ where: { id: repository.id } });
    expect(await db.prisma.schedule.findUnique({ where: { id: sync.id } })).toBeNull();
    expect(await db.prisma.schedule.findUnique({ where: { id: cleanupSchedule.id } })).toMatchObject({ kind: 'orphan-cleanup', params: {} });
  });
});
