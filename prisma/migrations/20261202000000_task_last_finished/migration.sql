-- The metrics' last successful sync per repository reads the newest completed
-- task of each repository's resource: (resource, state, finishedAt) answers it
-- with one index probe per repository, and still serves every lookup by
-- (resource, state) that the index it replaces served.
DROP INDEX "Task_resource_state_idx";
CREATE INDEX "Task_resource_state_finishedAt_idx" ON "Task"("resource", "state", "finishedAt");
