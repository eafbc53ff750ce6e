-- Pull-through caching (a distribution that serves a remote's repositories, fetched on
-- first pull) and remotes of many upstream repositories.

-- A remote names one upstream repository (a sync mirrors it) or, with upstreamName null,
-- serves many: "upstreamRepositories" says which (names and globs; empty: any).
ALTER TABLE "Remote" ALTER COLUMN "upstreamName" DROP NOT NULL;
ALTER TABLE "Remote" ADD COLUMN "upstreamRepositories" TEXT[] DEFAULT ARRAY[]::TEXT[];

-- A pull-through distribution points at a remote instead of a repository.
ALTER TABLE "Distribution" ADD COLUMN "remoteId" UUID;
ALTER TABLE "Distribution" ADD COLUMN "registryMirror" BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE "Distribution" ADD COLUMN "tagTtlSeconds" INTEGER NOT NULL DEFAULT 300;
ALTER TABLE "Distribution" ADD CONSTRAINT "Distribution_remoteId_fkey" FOREIGN KEY ("remoteId") REFERENCES "Remote"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
-- It serves a repository (its latest or a pinned version) or a remote, never both.
ALTER TABLE "Distribution" ADD CONSTRAINT "Distribution_source_check"
  CHECK ("remoteId" IS NULL OR ("repositoryId" IS NULL AND "repositoryVersionId" IS NULL));
ALTER TABLE "Distribution" ADD CONSTRAINT "Distribution_registry_mirror_check" CHECK (NOT "registryMirror" OR "remoteId" IS NOT NULL);
-- At most one distribution answers names under no base path.
CREATE UNIQUE INDEX "Distribution_one_registry_mirror" ON "Distribution"("registryMirror") WHERE "registryMirror";
CREATE INDEX "Distribution_remoteId_idx" ON "Distribution"("remoteId");

-- A pull-through distribution keeps what it caches in one repository per upstream repository.
ALTER TABLE "Repository" ADD COLUMN "upstreamName" TEXT;
ALTER TABLE "Repository" ADD COLUMN "pullThroughId" UUID;
ALTER TABLE "Repository" ADD CONSTRAINT "Repository_pullThroughId_fkey" FOREIGN KEY ("pullThroughId") REFERENCES "Distribution"("id") ON DELETE SET NULL ON UPDATE CASCADE;
CREATE UNIQUE INDEX "Repository_pullThroughId_upstreamName_key" ON "Repository"("pullThroughId", "upstreamName");

-- Cached content no version holds yet (see the model's comment in prisma/schema.prisma).
CREATE TABLE "PendingCacheWrite" (
    "id" BIGSERIAL NOT NULL,
    "repositoryId" UUID NOT NULL,
    "manifestDigest" TEXT,
    "tag" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "PendingCacheWrite_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "PendingCacheWrite_something_check" CHECK ("manifestDigest" IS NOT NULL OR "tag" IS NOT NULL)
);
CREATE INDEX "PendingCacheWrite_repositoryId_id_idx" ON "PendingCacheWrite"("repositoryId", "id");
CREATE INDEX "PendingCacheWrite_manifestDigest_idx" ON "PendingCacheWrite"("manifestDigest");
ALTER TABLE "PendingCacheWrite" ADD CONSTRAINT "PendingCacheWrite_repositoryId_fkey" FOREIGN KEY ("repositoryId") REFERENCES "Repository"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "PendingCacheWrite" ADD CONSTRAINT "PendingCacheWrite_manifestDigest_fkey" FOREIGN KEY ("manifestDigest") REFERENCES "Manifest"("digest") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Pull tokens may reach base paths and prefixes (`cache/*`) beside whole distributions.
ALTER TABLE "ApiToken" ADD COLUMN "basePaths" TEXT[] DEFAULT ARRAY[]::TEXT[];
