-- Tasks on one resource run in the order they were submitted; createdAt has
-- millisecond ties, so a sequence gives the order.
ALTER TABLE "Task" ADD COLUMN "seq" SERIAL NOT NULL;
