-- A sync dry-run's plan, one row per tag change, manifest decision and blob to bring in,
-- served in pages; the rows go with their task.
CREATE TYPE "SyncPlanKind" AS ENUM ('tag', 'manifest', 'blob');

CREATE TABLE "SyncPlanEntry" (
    "id" BIGSERIAL NOT NULL,
    "taskId" UUID NOT NULL,
    "kind" "SyncPlanKind" NOT NULL,
    "change" TEXT NOT NULL,
    "name" TEXT,
    "digest" TEXT,
    "fromDigest" TEXT,
    "reason" TEXT,
    "size" BIGINT,

    CONSTRAINT "SyncPlanEntry_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "SyncPlanEntry_taskId_kind_id_idx" ON "SyncPlanEntry"("taskId", "kind", "id");

ALTER TABLE "SyncPlanEntry" ADD CONSTRAINT "SyncPlanEntry_taskId_fkey" FOREIGN KEY ("taskId") REFERENCES "Task"("id") ON DELETE CASCADE ON UPDATE CASCADE;
