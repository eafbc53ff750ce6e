-- A manifest is stored once, under its sha256; every other digest it has been
-- referenced by (sha512:…) is an alias of that row.

-- CreateTable
CREATE TABLE "ManifestAlias" (
    "digest" TEXT NOT NULL,
    "manifestDigest" TEXT NOT NULL,

    CONSTRAINT "ManifestAlias_pkey" PRIMARY KEY ("digest")
);

-- CreateIndex
CREATE INDEX "ManifestAlias_manifestDigest_idx" ON "ManifestAlias"("manifestDigest");

-- AddForeignKey
ALTER TABLE "ManifestAlias" ADD CONSTRAINT "ManifestAlias_manifestDigest_fkey" FOREIGN KEY ("manifestDigest") REFERENCES "Manifest"("digest") ON DELETE CASCADE ON UPDATE CASCADE;
