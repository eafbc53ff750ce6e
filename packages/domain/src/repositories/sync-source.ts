import type { PrismaClient } from '@cistern/db';
import { syncedUpstreamName } from '@cistern/sync';
import { invalidReference } from '../shared/references.ts';

/**
 * Refuses, when it is requested or scheduled, a sync of `repository` from
 * remote `remoteId` that could only fail: a remote that does not exist
 * (INVALID_REFERENCE, detail path `remote`), or a remote of many upstream
 * repositories while the repository names none (UPSTREAM_NAME_MISSING,
 * naming the remote: the sync task's own rule, syncedUpstreamName).
 */
export async function assertSyncable(prisma: PrismaClient, repository: { upstreamName: string | null }, remoteId: string): Promise<void> {
  const remote = await prisma.remote.findUnique({ where: { id: remoteId }, select: { name: true, upstreamName: true } });
  if (!remote) throw invalidReference('remote', [remoteId], 'remote');
  syncedUpstreamName(repository, remote);
}
