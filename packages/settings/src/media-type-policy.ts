import type { PrismaClient } from '@cistern/db';
import { DEFAULT_POLICY, MediaTypePolicy } from '@cistern/oci';

/** The policy row's id: there is one policy for the whole installation. */
const POLICY_ID = 'default';

export interface StoredPolicy {
  policy: MediaTypePolicy;
  /** null until the policy is first saved (the defaults apply). */
  updatedAt: Date | null;
}

/**
 * Read at the start of every sync, so a change applies to the next sync
 * without a restart. A missing row means the package defaults.
 */
export async function loadPolicy(prisma: PrismaClient): Promise<StoredPolicy> {
  const row = await prisma.mediaTypePolicy.findUnique({ where: { id: POLICY_ID } });
  if (!row) return { policy: { ...DEFAULT_POLICY }, updatedAt: null };
  return { policy: MediaTypePolicy.parse({ artifacts: row.artifacts, allow: row.allow, deny: row.deny }), updatedAt: row.updatedAt };
}

export async function savePolicy(prisma: PrismaClient, policy: MediaTypePolicy): Promise<StoredPolicy> {
  const data = MediaTypePolicy.parse(policy);
  const row = await prisma.mediaTypePolicy.upsert({ where: { id: POLICY_ID }, create: { id: POLICY_ID, ...data }, update: data });
  return { policy: { artifacts: row.artifacts, allow: row.allow, deny: row.deny }, updatedAt: row.updatedAt };
}
