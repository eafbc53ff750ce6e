import { createHash, randomUUID } from 'node:crypto';
import { createLogger } from '@cistern/config';
import { createRepository, openDatabase, saveManifest, versionManifests, versionTags, writeRepositoryVersion, type Database } from '@cistern/db';
import { createRedis, createTaskQueue, createTaskWorker, redisConnectionOptions, repositoryResource, TaskService, type TaskParamsOf } from '@cistern/queue';
import { repositoryVersionHref } from '@cistern/runtime';
import { createTestDatabase, createTestRedisPrefix, TEST_REDIS_URL, type TestDatabase } from '@cistern/testkit';
import type { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentTasks } from '../src/content-tasks.ts';

type ContentKind = (typeof contentTasks)[number];

let testDb: TestDatabase;
let db: Database;
let queue: Queue;
let redis: Redis;
let worker: Worker;
let service: TaskService<ContentKind>;
const { prefix, cleanup } = createTestRedisPrefix();

beforeAll(async () => {
  testDb = await createTestDatabase();
  db = await openDatabase({ databaseUrl: testDb.url, dataDir: '/nonexistent', allowEmbedded: false });
  queue = createTaskQueue({ connection: redisConnectionOptions(TEST_REDIS_URL), prefix });
  redis = createRedis(TEST_REDIS_URL);
  service = new TaskService(db.prisma, queue, contentTasks, createLogger({ logLevel: 'silent' }));
  worker = createTaskWorker({
    prisma: db.prisma,
    connection: redisConnectionOptions(TEST_REDIS_URL),
    queue,
    redis,
    logger: createLogger({ logLevel: 'silent' }),
    name: 'content-worker',
    prefix,
    concurrency: 8,
    busyRetryDelayMs: 100,
    tasks: contentTasks.map((task) => task.bind({ prisma: db.prisma, versionHref: repositoryVersionHref })),
  });
});
afterAll(async () => {
  await worker.close();
  await queue.close();
  redis.disconnect();
  await db.close();
  await testDb.drop();
  await cleanup();
});

const digestOf = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;

const sha512Of = (s: string) => `sha512:${createHash('sha512').update(s).digest('hex')}`;

/** A stored manifest; `children` makes it an index, `subject` a referrer. Also known by its sha512. */
async function manifest(name: string, opts: { children?: string[]; subject?: string } = {}): Promise<string> {
  const raw = Buffer.from(JSON.stringify({ name, ...opts }));
  const digest = digestOf(raw.toString());
  await saveManifest(db.prisma, {
    digest,
    aliases: [sha512Of(raw.toString())],
    mediaType: opts.children ? 'application/vnd.oci.image.index.v1+json' : 'application/vnd.oci.image.manifest.v1+json',
    artifactType: null,
    classification: opts.children ? 'index' : 'image',
    raw,
    subjectDigest: opts.subject ?? null,
    configDigest: null,
    blobs: [],
    children: (opts.children ?? []).map((d) => ({ digest: d, size: 10, mediaType: 'application/vnd.oci.image.manifest.v1+json', platform: 'linux/amd64' })),
  });
  return digest;
}

async function run<K extends ContentKind['name']>(kind: K, params: TaskParamsOf<ContentKind, K>) {
  const { task } = await service.create({ kind, params, resource: repositoryResource((params as { repositoryId: string }).repositoryId) });
  for (;;) {
    const row = await db.prisma.task.findUniqueOrThrow({ where: { id: task.id } });
    if (['completed', 'failed', 'canceled'].includes(row.state)) return row;
    await new Promise((r) => setTimeout(r, 30));
  }
}

async function fixture() {
  const child = await manifest(`child-${randomUUID()}`);
  const index = await manifest(`index-${randomUUID()}`, { children: [child] });
  const signature = await manifest(`sig-${randomUUID()}`, { subject: index });
  const other = await manifest(`other-${randomUUID()}`);
  const repository = await createRepository(db.prisma, { name: `repo-${randomUUID()}` });
  await writeRepositoryVersion(db.prisma, repository.id, {
    addManifests: [child, index, signature, other],
    addTags: [
      ['latest', index],
      ['other', other],
    ],
  });
  return { repository, child, index, signature, other };
}

describe('content actions', () => {
  it('tag and untag write new versions', async () => {
    const { repository, other, index } = await fixture();
    const tagged = await run('tag', { repositoryId: repository.id, tag: 'stable', digest: other });
    expect(tagged).toMatchObject({ state: 'completed', createdResources: [`/api/v1/repositories/${repository.id}/versions/2`] });
    expect((await versionTags(db.prisma, repository.id, 2)).get('stable')).toBe(other);
    await run('tag', { repositoryId: repository.id, tag: 'stable', digest: index });
    expect((await versionTags(db.prisma, repository.id, 3)).get('stable')).toBe(index);
    await run('untag', { repositoryId: repository.id, tags: ['stable', 'other'] });
    expect([...(await versionTags(db.prisma, repository.id, 4)).keys()]).toEqual(['latest']);
    expect((await versionManifests(db.prisma, repository.id, 4)).has(other)).toBe(true);
  });

  it('refuses unknown digests and tags with a clear error and writes nothing', async () => {
    const { repository } = await fixture();
    const failed = await run('tag', { repositoryId: repository.id, tag: 'x', digest: digestOf('nowhere') });
    expect(failed).toMatchObject({ state: 'failed', error: { code: 'MANIFEST_UNKNOWN' } });
    expect(await run('untag', { repositoryId: repository.id, tags: ['nope'] })).toMatchObject({ state: 'failed', error: { code: 'TAG_UNKNOWN' } });
    expect((await db.prisma.repository.findUniqueOrThrow({ where: { id: repository.id } })).latestVersion).toBe(1);
  });

  it('removing an index removes its tags, children and referrers', async () => {
    const { repository, index, child, signature, other } = await fixture();
    await run('remove', { repositoryId: repository.id, digests: [index], tags: [] });
    expect(await versionManifests(db.prisma, repository.id, 2)).toEqual(new Set([other]));
    expect([...(await versionTags(db.prisma, repository.id, 2)).keys()]).toEqual(['other']);
    expect(await versionManifests(db.prisma, repository.id, 1)).toEqual(new Set([child, index, signature, other]));
  });

  it('copies tags with everything they need from another repository version', async () => {
    const { repository: source, index, child, signature } = await fixture();
    const target = await createRepository(db.prisma, { name: `target-${randomUUID()}` });
    const copied = await run('copy', { repositoryId: target.id, sourceRepositoryId: source.id, sourceVersion: 1, tags: ['latest'], digests: [] });
    expect(copied.state).toBe('completed');
    expect(await versionManifests(db.prisma, target.id, 1)).toEqual(new Set([index, child, signature]));
    expect(await versionTags(db.prisma, target.id, 1)).toEqual(new Map([['latest', index]]));
  });

  it('takes manifests named by sha512 and follows children and subjects named so', async () => {
    const sha512 = async (digest: string) => (await db.prisma.manifestAlias.findFirstOrThrow({ where: { manifestDigest: digest } })).digest;
    const child = await manifest(`child-${randomUUID()}`);
    const index = await manifest(`index-${randomUUID()}`, { children: [await sha512(child)] });
    const signature = await manifest(`sig-${randomUUID()}`, { subject: await sha512(index) });
    const other = await manifest(`other-${randomUUID()}`);
    const repository = await createRepository(db.prisma, { name: `repo-${randomUUID()}` });
    await writeRepositoryVersion(db.prisma, repository.id, {
      addManifests: [await sha512(child), index, signature, other],
      addTags: [['other', await sha512(other)]],
    });
    expect(await versionManifests(db.prisma, repository.id, 1)).toEqual(new Set([child, index, signature, other]));
    expect(await versionTags(db.prisma, repository.id, 1)).toEqual(new Map([['other', other]]));

    await run('tag', { repositoryId: repository.id, tag: 'latest', digest: await sha512(index) });
    expect((await versionTags(db.prisma, repository.id, 2)).get('latest')).toBe(index);
    const target = await createRepository(db.prisma, { name: `target-${randomUUID()}` });
    const copied = await run('copy', { repositoryId: target.id, sourceRepositoryId: repository.id, tags: [], digests: [await sha512(index)] });
    expect(copied.state).toBe('completed');
    expect(await versionManifests(db.prisma, target.id, 1)).toEqual(new Set([index, child, signature]));
    await run('remove', { repositoryId: repository.id, digests: [await sha512(index)], tags: [] });
    expect(await versionManifests(db.prisma, repository.id, 3)).toEqual(new Set([other]));
  });

  it('serializes concurrent actions on one repository into consecutive versions', async () => {
    const { repository, other } = await fixture();
    const tasks = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((t) => run('tag', { repositoryId: repository.id, tag: t, digest: other })));
    expect(tasks.every((t) => t.state === 'completed')).toBe(true);
    expect(tasks.map((t) => t.createdResources[0]?.split('/').pop()).sort()).toEqual(['2', '3', '4', '5', '6']);
    expect([...(await versionTags(db.prisma, repository.id, 6)).keys()].sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'latest', 'other']);
  });
});
