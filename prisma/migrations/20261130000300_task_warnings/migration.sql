-- AlterTable
ALTER TABLE "Task" ADD COLUMN "warnings" JSONB NOT NULL DEFAULT '[]';
