import type { PrismaClient } from '@cistern/db';
import { sourcedGauge } from '@cistern/metrics';
import { lastSyncSuccesses } from './last-sync-success.ts';

const lastSyncSuccess = sourcedGauge<'repository' | 'remote'>({
  name: 'cistern_repository_last_sync_success_timestamp_seconds',
  help: "When the repository's last successful sync finished (unix seconds), and from which remote; read from the database at scrape time",
  labelNames: ['repository', 'remote'],
  source: 'repository_last_sync_success',
});

/** Exports `cistern_repository_last_sync_success_timestamp_seconds`, one series per repository synced successfully at least once. */
export function exportLastSyncSuccess(prisma: PrismaClient): () => void {
  return lastSyncSuccess.bind(async () =>
    (await lastSyncSuccesses(prisma)).map(({ repository, remote, finishedAt }) => ({ labels: { repository, remote }, value: finishedAt })),
  );
}
