import { randomBytes, randomUUID } from 'node:crypto';
import { sealSecret } from '@cistern/config';
import { createRepository, openDatabase, type Database, type Prisma, type Remote, type Repository } from '@cistern/db';
import { DEFAULT_POLICY, type MediaTypePolicy } from '@cistern/oci';
import { TaskCanceledError } from '@cistern/queue';
import { FilesystemBlobStore } from '@cistern/storage';
import { createTestDatabase, makeTempDir, removeDir, type TestDatabase } from '@cistern/testkit';
import { clientForRemote } from '@cistern/upstream';
import type { SyncProgress } from '../src/sync-progress.ts';
import { syncRepository, type SyncResult } from '../src/sync-repository.ts';
import { syncedUpstreamName } from '../src/synced-upstream-name.ts';

type Update = Parameters<SyncProgress['report']>[1];

/** Keeps every report in memory, as the task runner would persist them. */
export class RecordingProgress implements SyncProgress {
  readonly reports = new Map<string, Update & { done: number }>();
  private readonly aborter = new AbortController();
  readonly signal = this.aborter.signal;

  report(code: string, update: Update) {
    const next = { done: 0, ...this.reports.get(code), ...update };
    this.reports.set(code, next);
    return next;
  }

  increment(code: string, by: number, message: string) {
    this.report(code, { done: (this.reports.get(code)?.done ?? 0) + by, message });
  }

  checkpoint() {
    if (this.signal.aborted) throw new TaskCanceledError();
  }

  cancel() {
    this.aborter.abort();
  }

  done(code: string): number {
    return this.reports.get(code)?.done ?? 0;
  }
}

/** Real PostgreSQL and a real blob store in a temp dir, for one test file. */
export class SyncHarness {
  db!: Database;
  storage!: FilesystemBlobStore;
  readonly secretKey = randomBytes(32);
  private testDb!: TestDatabase;
  private dir!: string;

  async start(): Promise<void> {
    this.testDb = await createTestDatabase();
    this.db = await openDatabase({ databaseUrl: this.testDb.url, dataDir: '/nonexistent', allowEmbedded: false });
    this.dir = await makeTempDir('sync-storage');
    this.storage = new FilesystemBlobStore(this.dir);
  }

  async stop(): Promise<void> {
    await this.db.close();
    await this.testDb.drop();
    await removeDir(this.dir);
  }

  async remote(data: Omit<Prisma.RemoteUncheckedCreateInput, 'name'> & { password?: string; proxyPassword?: string }): Promise<Remote> {
    const { password, proxyPassword, ...rest } = data;
    return this.db.prisma.remote.create({
      data: {
        name: `remote-${randomUUID()}`,
        maxRetries: 2,
        ...rest,
        ...(password ? { passwordEncrypted: sealSecret(this.secretKey, password) } : {}),
        ...(proxyPassword ? { proxyPasswordEncrypted: sealSecret(this.secretKey, proxyPassword) } : {}),
      },
    });
  }

  repository(retainVersions: number | null = null): Promise<Repository> {
    return createRepository(this.db.prisma, { name: `repo-${randomUUID()}`, retainVersions });
  }

  async sync(
    remote: Remote,
    repository: Repository,
    options: { mirror?: boolean; mediaTypePolicy?: MediaTypePolicy; progress?: RecordingProgress } = {},
  ): Promise<{ result: SyncResult; progress: RecordingProgress }> {
    const progress = options.progress ?? new RecordingProgress();
    const client = clientForRemote({ ...remote, upstreamName: syncedUpstreamName(repository, remote) }, this.secretKey, {
      retryBaseMs: 10,
      retryMaxMs: 50,
    });
    const result = await syncRepository(
      { prisma: this.db.prisma, storage: this.storage, client, progress },
      {
        repositoryId: repository.id,
        remote,
        mirror: options.mirror ?? false,
        mediaTypePolicy: options.mediaTypePolicy ?? DEFAULT_POLICY,
        maxManifestBytes: 4 * 1024 * 1024,
      },
    );
    return { result, progress };
  }
}
