-- AlterTable
ALTER TABLE "Remote" ADD COLUMN "proxyUsername" TEXT,
ADD COLUMN "proxyPasswordEncrypted" TEXT;
