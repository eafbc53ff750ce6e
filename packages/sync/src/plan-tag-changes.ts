import { chunked, inVersion, type PrismaClient } from '@cistern/db';
import { MAX_BATCH_KEYS } from './batched.ts';
import type { SyncPlan } from './sync-plan.ts';

/** What a sync would make of the tags: every tag of the new version, or (additive) the tags it adds or moves. */
export interface PlannedTags {
  tags: Iterable<readonly [string, string]>;
  /** Mirror: whether a tag of the latest version is in the new one (the rest are removed). Additive: undefined, nothing is removed. */
  keeps?: (name: string) => boolean;
}

/**
 * Records in `plan` how the tags of the version a sync would write differ from
 * those of the latest version: added, moved (with the previous target) and,
 * for a mirror, removed; the rest are counted unchanged. Reads the latest
 * version a batch of names at a time, and pages through it for the removed.
 */
export async function planTagChanges(prisma: PrismaClient, repositoryId: string, plan: SyncPlan, planned: PlannedTags): Promise<void> {
  const { latestVersion } = await prisma.repository.findUniqueOrThrow({ where: { id: repositoryId }, select: { latestVersion: true } });
  const latest = { repositoryId, ...inVersion(latestVersion) };
  for (const batch of chunked(planned.tags, MAX_BATCH_KEYS)) {
    const rows = await prisma.repositoryTag.findMany({
      where: { ...latest, name: { in: batch.map(([name]) => name) } },
      select: { name: true, manifestDigest: true },
    });
    const before = new Map(rows.map((row) => [row.name, row.manifestDigest]));
    for (const [name, digest] of batch) {
      const from = before.get(name);
      if (from === undefined) plan.add({ kind: 'tag', change: 'added', name, digest });
      else if (from !== digest) plan.add({ kind: 'tag', change: 'moved', name, digest, fromDigest: from });
      else plan.count('tagsUnchanged');
    }
  }
  const { keeps } = planned;
  if (!keeps) return;
  for (let after: bigint | undefined; ;) {
    const rows = await prisma.repositoryTag.findMany({
      where: { ...latest, ...(after === undefined ? {} : { id: { gt: after } }) },
      select: { id: true, name: true, manifestDigest: true },
      orderBy: { id: 'asc' },
      take: MAX_BATCH_KEYS,
    });
    for (const row of rows) {
      if (!keeps(row.name)) plan.add({ kind: 'tag', change: 'removed', name: row.name, digest: row.manifestDigest });
    }
    if (rows.length < MAX_BATCH_KEYS) return;
    after = rows[rows.length - 1]?.id;
  }
}
