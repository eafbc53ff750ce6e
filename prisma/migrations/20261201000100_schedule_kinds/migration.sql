-- A schedule starts a task of its kind: `sync` (of its repository, as every schedule did) or
-- `orphan-cleanup` (of the whole store, with its task params in "params").
ALTER TABLE "Schedule" ADD COLUMN "kind" TEXT NOT NULL DEFAULT 'sync';
ALTER TABLE "Schedule" ADD COLUMN "params" JSONB NOT NULL DEFAULT '{}';

-- Only sync schedules name a repository; the foreign key (ON DELETE CASCADE) stays as it is.
ALTER TABLE "Schedule" ALTER COLUMN "repositoryId" DROP NOT NULL;
ALTER TABLE "Schedule" ADD CONSTRAINT "Schedule_sync_repository_check" CHECK ("kind" <> 'sync' OR "repositoryId" IS NOT NULL);
