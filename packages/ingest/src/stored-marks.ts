import type { PrismaClient } from '@cistern/db';

/**
 * Marks Blob rows stored (`stored = true`) once their bytes are durably in
 * the store, `batchSize` digests per UPDATE: a sync marks its blobs 50 at a
 * time, the registry each one at once. A blob in the store whose row is not
 * marked yet (a crash in between) is found by the store's `exists` next time.
 */
export class StoredMarks {
  private batch: string[] = [];
  /** The UPDATEs in order; once one fails, every later flush rejects with it (a sync fails; the registry takes new marks per blob). */
  private written: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly batchSize = 1,
  ) {}

  /** Queues `digest`; resolves at once while its batch fills, else once the batch is written. Rejects when the database does. */
  async mark(digest: string): Promise<void> {
    this.batch.push(digest);
    if (this.batch.length >= this.batchSize) await this.flush();
  }

  /** Writes what is queued; resolves once every digest marked so far is written. */
  async flush(): Promise<void> {
    const digests = this.batch.splice(0);
    if (digests.length > 0) {
      this.written = this.written.then(() => this.prisma.blob.updateMany({ where: { digest: { in: digests } }, data: { stored: true } }));
    }
    await this.written;
  }
}
