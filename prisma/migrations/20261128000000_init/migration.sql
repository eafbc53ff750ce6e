-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "SyncPolicy" AS ENUM ('immediate', 'on_demand', 'streamed');

-- CreateEnum
CREATE TYPE "TaskState" AS ENUM ('waiting', 'running', 'completed', 'failed', 'canceling', 'canceled');

-- CreateEnum
CREATE TYPE "TokenScope" AS ENUM ('admin', 'pull');

-- CreateEnum
CREATE TYPE "BlobRole" AS ENUM ('config', 'layer');

-- CreateTable
CREATE TABLE "Remote" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "upstreamName" TEXT NOT NULL,
    "includes" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "excludes" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "platforms" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "policy" "SyncPolicy" NOT NULL DEFAULT 'immediate',
    "username" TEXT,
    "passwordEncrypted" TEXT,
    "tlsVerify" BOOLEAN NOT NULL DEFAULT true,
    "caCert" TEXT,
    "proxyUrl" TEXT,
    "downloadConcurrency" INTEGER NOT NULL DEFAULT 10,
    "requestsPerSecond" DOUBLE PRECISION,
    "maxRetries" INTEGER NOT NULL DEFAULT 3,
    "connectTimeoutMs" INTEGER NOT NULL DEFAULT 10000,
    "readTimeoutMs" INTEGER NOT NULL DEFAULT 60000,
    "syncSignatures" BOOLEAN NOT NULL DEFAULT true,
    "syncReferrers" BOOLEAN NOT NULL DEFAULT true,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Remote_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Repository" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "remoteId" UUID,
    "retainVersions" INTEGER,
    "latestVersion" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Repository_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "RepositoryVersion" (
    "id" UUID NOT NULL,
    "repositoryId" UUID NOT NULL,
    "number" INTEGER NOT NULL,
    "baseVersion" INTEGER,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "RepositoryVersion_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Blob" (
    "digest" TEXT NOT NULL,
    "size" BIGINT NOT NULL,
    "mediaType" TEXT,
    "stored" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Blob_pkey" PRIMARY KEY ("digest")
);

-- CreateTable
CREATE TABLE "Manifest" (
    "digest" TEXT NOT NULL,
    "mediaType" TEXT NOT NULL,
    "artifactType" TEXT,
    "classification" TEXT NOT NULL,
    "size" BIGINT NOT NULL,
    "raw" BYTEA NOT NULL,
    "subjectDigest" TEXT,
    "configDigest" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Manifest_pkey" PRIMARY KEY ("digest")
);

-- CreateTable
CREATE TABLE "ManifestBlob" (
    "manifestDigest" TEXT NOT NULL,
    "blobDigest" TEXT NOT NULL,
    "role" "BlobRole" NOT NULL,
    "position" INTEGER NOT NULL,

    CONSTRAINT "ManifestBlob_pkey" PRIMARY KEY ("manifestDigest","position")
);

-- CreateTable
CREATE TABLE "ManifestChild" (
    "indexDigest" TEXT NOT NULL,
    "position" INTEGER NOT NULL,
    "childDigest" TEXT NOT NULL,
    "mediaType" TEXT NOT NULL,
    "size" BIGINT NOT NULL,
    "platform" TEXT,

    CONSTRAINT "ManifestChild_pkey" PRIMARY KEY ("indexDigest","position")
);

-- CreateTable
CREATE TABLE "RepositoryManifest" (
    "id" BIGSERIAL NOT NULL,
    "repositoryId" UUID NOT NULL,
    "manifestDigest" TEXT NOT NULL,
    "versionAdded" INTEGER NOT NULL,
    "versionRemoved" INTEGER,

    CONSTRAINT "RepositoryManifest_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "RepositoryTag" (
    "id" BIGSERIAL NOT NULL,
    "repositoryId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "manifestDigest" TEXT NOT NULL,
    "versionAdded" INTEGER NOT NULL,
    "versionRemoved" INTEGER,

    CONSTRAINT "RepositoryTag_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "RemoteArtifact" (
    "id" UUID NOT NULL,
    "blobDigest" TEXT NOT NULL,
    "remoteId" UUID NOT NULL,
    "upstreamName" TEXT NOT NULL,
    "urls" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "RemoteArtifact_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Distribution" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "basePath" TEXT NOT NULL,
    "repositoryId" UUID,
    "repositoryVersionId" UUID,
    "private" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Distribution_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Task" (
    "id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "state" "TaskState" NOT NULL DEFAULT 'waiting',
    "resource" TEXT,
    "params" JSONB NOT NULL DEFAULT '{}',
    "progressReports" JSONB NOT NULL DEFAULT '[]',
    "error" JSONB,
    "createdResources" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "worker" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Task_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Schedule" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "cron" TEXT NOT NULL,
    "timezone" TEXT NOT NULL DEFAULT 'UTC',
    "repositoryId" UUID NOT NULL,
    "remoteId" UUID,
    "mirror" BOOLEAN NOT NULL DEFAULT false,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "lastTaskId" UUID,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Schedule_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "MediaTypePolicy" (
    "id" TEXT NOT NULL DEFAULT 'default',
    "artifacts" BOOLEAN NOT NULL DEFAULT true,
    "allow" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "deny" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "MediaTypePolicy_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ApiToken" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "secretHash" TEXT NOT NULL,
    "scope" "TokenScope" NOT NULL,
    "allDistributions" BOOLEAN NOT NULL DEFAULT false,
    "expiresAt" TIMESTAMP(3),
    "revokedAt" TIMESTAMP(3),
    "lastUsedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ApiToken_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ApiTokenDistribution" (
    "tokenId" UUID NOT NULL,
    "distributionId" UUID NOT NULL,

    CONSTRAINT "ApiTokenDistribution_pkey" PRIMARY KEY ("tokenId","distributionId")
);

-- CreateIndex
CREATE UNIQUE INDEX "Remote_name_key" ON "Remote"("name");

-- CreateIndex
CREATE UNIQUE INDEX "Repository_name_key" ON "Repository"("name");

-- CreateIndex
CREATE UNIQUE INDEX "RepositoryVersion_repositoryId_number_key" ON "RepositoryVersion"("repositoryId", "number");

-- CreateIndex
CREATE INDEX "Manifest_subjectDigest_idx" ON "Manifest"("subjectDigest");

-- CreateIndex
CREATE INDEX "ManifestBlob_blobDigest_idx" ON "ManifestBlob"("blobDigest");

-- CreateIndex
CREATE INDEX "ManifestChild_childDigest_idx" ON "ManifestChild"("childDigest");

-- CreateIndex
CREATE INDEX "RepositoryManifest_repositoryId_manifestDigest_idx" ON "RepositoryManifest"("repositoryId", "manifestDigest");

-- CreateIndex
CREATE INDEX "RepositoryManifest_repositoryId_versionAdded_idx" ON "RepositoryManifest"("repositoryId", "versionAdded");

-- CreateIndex
CREATE INDEX "RepositoryManifest_repositoryId_versionRemoved_idx" ON "RepositoryManifest"("repositoryId", "versionRemoved");

-- CreateIndex
CREATE INDEX "RepositoryTag_repositoryId_name_versionAdded_idx" ON "RepositoryTag"("repositoryId", "name", "versionAdded");

-- CreateIndex
CREATE INDEX "RepositoryTag_repositoryId_versionAdded_idx" ON "RepositoryTag"("repositoryId", "versionAdded");

-- CreateIndex
CREATE INDEX "RepositoryTag_repositoryId_versionRemoved_idx" ON "RepositoryTag"("repositoryId", "versionRemoved");

-- CreateIndex
CREATE INDEX "RepositoryTag_manifestDigest_idx" ON "RepositoryTag"("manifestDigest");

-- CreateIndex
CREATE INDEX "RemoteArtifact_remoteId_idx" ON "RemoteArtifact"("remoteId");

-- CreateIndex
CREATE UNIQUE INDEX "RemoteArtifact_blobDigest_remoteId_upstreamName_key" ON "RemoteArtifact"("blobDigest", "remoteId", "upstreamName");

-- CreateIndex
CREATE UNIQUE INDEX "Distribution_name_key" ON "Distribution"("name");

-- CreateIndex
CREATE UNIQUE INDEX "Distribution_basePath_key" ON "Distribution"("basePath");

-- CreateIndex
CREATE INDEX "Task_state_createdAt_idx" ON "Task"("state", "createdAt");

-- CreateIndex
CREATE INDEX "Task_resource_state_idx" ON "Task"("resource", "state");

-- CreateIndex
CREATE INDEX "Task_kind_state_idx" ON "Task"("kind", "state");

-- CreateIndex
CREATE UNIQUE INDEX "Schedule_name_key" ON "Schedule"("name");

-- CreateIndex
CREATE UNIQUE INDEX "ApiToken_name_key" ON "ApiToken"("name");

-- CreateIndex
CREATE UNIQUE INDEX "ApiToken_secretHash_key" ON "ApiToken"("secretHash");

-- CreateIndex
CREATE INDEX "ApiTokenDistribution_distributionId_idx" ON "ApiTokenDistribution"("distributionId");

-- AddForeignKey
ALTER TABLE "Repository" ADD CONSTRAINT "Repository_remoteId_fkey" FOREIGN KEY ("remoteId") REFERENCES "Remote"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RepositoryVersion" ADD CONSTRAINT "RepositoryVersion_repositoryId_fkey" FOREIGN KEY ("repositoryId") REFERENCES "Repository"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ManifestBlob" ADD CONSTRAINT "ManifestBlob_manifestDigest_fkey" FOREIGN KEY ("manifestDigest") REFERENCES "Manifest"("digest") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ManifestBlob" ADD CONSTRAINT "ManifestBlob_blobDigest_fkey" FOREIGN KEY ("blobDigest") REFERENCES "Blob"("digest") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ManifestChild" ADD CONSTRAINT "ManifestChild_indexDigest_fkey" FOREIGN KEY ("indexDigest") REFERENCES "Manifest"("digest") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RepositoryManifest" ADD CONSTRAINT "RepositoryManifest_repositoryId_fkey" FOREIGN KEY ("repositoryId") REFERENCES "Repository"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RepositoryManifest" ADD CONSTRAINT "RepositoryManifest_manifestDigest_fkey" FOREIGN KEY ("manifestDigest") REFERENCES "Manifest"("digest") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RepositoryTag" ADD CONSTRAINT "RepositoryTag_repositoryId_fkey" FOREIGN KEY ("repositoryId") REFERENCES "Repository"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RepositoryTag" ADD CONSTRAINT "RepositoryTag_manifestDigest_fkey" FOREIGN KEY ("manifestDigest") REFERENCES "Manifest"("digest") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RemoteArtifact" ADD CONSTRAINT "RemoteArtifact_blobDigest_fkey" FOREIGN KEY ("blobDigest") REFERENCES "Blob"("digest") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RemoteArtifact" ADD CONSTRAINT "RemoteArtifact_remoteId_fkey" FOREIGN KEY ("remoteId") REFERENCES "Remote"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Distribution" ADD CONSTRAINT "Distribution_repositoryId_fkey" FOREIGN KEY ("repositoryId") REFERENCES "Repository"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Distribution" ADD CONSTRAINT "Distribution_repositoryVersionId_fkey" FOREIGN KEY ("repositoryVersionId") REFERENCES "RepositoryVersion"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Schedule" ADD CONSTRAINT "Schedule_repositoryId_fkey" FOREIGN KEY ("repositoryId") REFERENCES "Repository"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Schedule" ADD CONSTRAINT "Schedule_remoteId_fkey" FOREIGN KEY ("remoteId") REFERENCES "Remote"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ApiTokenDistribution" ADD CONSTRAINT "ApiTokenDistribution_tokenId_fkey" FOREIGN KEY ("tokenId") REFERENCES "ApiToken"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ApiTokenDistribution" ADD CONSTRAINT "ApiTokenDistribution_distributionId_fkey" FOREIGN KEY ("distributionId") REFERENCES "Distribution"("id") ON DELETE CASCADE ON UPDATE CASCADE;

