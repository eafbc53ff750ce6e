import type { Resources } from './resources.ts';

/**
 * Removes the partial files that processes killed mid-write left in the
 * store's tmp, sparing those written to within ORPHAN_PROTECTION_MINUTES
 * (see BlobStore.sweepTemporary). Run once by each process that writes blobs,
 * as it starts. Never rejects: leftovers are not worth failing a start over,
 * and the next start or the orphan-cleanup task sweeps again.
 */
export async function sweepTemporaryAtStart({ storage, config, logger }: Pick<Resources, 'storage' | 'config' | 'logger'>): Promise<void> {
  try {
    const removed = await storage.sweepTemporary({ olderThanMs: config.orphanProtectionMinutes * 60_000 });
    logger[removed.files > 0 ? 'info' : 'debug'](removed, 'swept partial files left in storage tmp by stopped writers');
  } catch (error) {
    logger.warn({ err: error }, 'could not sweep storage tmp; partial files left there stay until the next sweep');
  }
}
