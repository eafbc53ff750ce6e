import { Prisma, type PrismaClient } from '@cistern/db';
import { repositoryResource } from '@cistern/queue';
import { syncTask } from '@cistern/sync';

/** A repository's last successful sync: which remote it synced from, and when it finished. */
export interface LastSyncSuccess {
  repository: string;
  /** The remote's name; empty when that remote has been deleted since. */
  remote: string;
  /** Unix seconds (with milliseconds) of the task's finishedAt. */
  finishedAt: number;
}

/**
 * Every repository's last successful sync (a completed sync task that was not
 * a dry-run); repositories never synced successfully have no row. Per
 * repository it walks the newest completed tasks of its resource backwards
 * on the Task(resource, state, finishedAt) index until the first real sync,
 * so its cost grows with the number of repositories, not with the task
 * history. The dry-run test is `NOT params ? 'dryRun'`: the planner counts
 * that as passing nearly every row, where `params->>'dryRun' IS NULL` (an
 * expression without statistics) counts as passing almost none and makes it
 * read each repository's whole history instead.
 */
export const lastSyncSuccessQuery = Prisma.sql`
  SELECT r."name" AS "repository", COALESCE(rm."name", '') AS "remote", extract(epoch FROM t."finishedAt")::float8 AS "finishedAt"
    FROM "Repository" r
    CROSS JOIN LATERAL (
      SELECT t."finishedAt", t."params"->>'remoteId' AS "remoteId" FROM "Task" t
       WHERE t."resource" = ${repositoryResource('')} || r."id"::text AND t."state" = 'completed' AND t."finishedAt" IS NOT NULL
         AND t."kind" = ${syncTask.name} AND NOT t."params" ? 'dryRun'
       ORDER BY t."finishedAt" DESC LIMIT 1) t
    LEFT JOIN "Remote" rm ON rm."id" = t."remoteId"::uuid`;

/** Runs lastSyncSuccessQuery: one statement for every repository. */
export async function lastSyncSuccesses(prisma: PrismaClient): Promise<LastSyncSuccess[]> {
  return prisma.$queryRaw<LastSyncSuccess[]>(lastSyncSuccessQuery);
}
