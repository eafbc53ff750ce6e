-- Orphan cleanup's protection counts from the last time a writer relied on a row.
ALTER TABLE "Blob" ADD COLUMN "lastUsedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;
ALTER TABLE "Manifest" ADD COLUMN "lastUsedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;

-- AlterTable
ALTER TABLE "Task" ADD COLUMN "result" JSONB;

-- CreateTable
CREATE TABLE "ContentHold" (
    "id" UUID NOT NULL,
    "holder" TEXT NOT NULL,
    "startedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ContentHold_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "ContentHold_expiresAt_idx" ON "ContentHold"("expiresAt");

-- "Does any version reference this manifest?": orphan cleanup, and the foreign-key check of a manifest's delete.
CREATE INDEX "RepositoryManifest_manifestDigest_idx" ON "RepositoryManifest"("manifestDigest");
