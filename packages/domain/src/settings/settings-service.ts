import type { PrismaClient } from '@cistern/db';
import type { MediaTypePolicy } from '@cistern/oci';
import { loadPolicy, savePolicy, type StoredPolicy } from '@cistern/settings';

/** Settings editable at runtime: the media-type policy, read by every sync at its start. */
export interface SettingsService {
  /** The stored policy, or the defaults (updatedAt null) while none was saved. */
  mediaTypePolicy(): Promise<StoredPolicy>;
  /** Replaces the policy; the next sync applies it. */
  saveMediaTypePolicy(policy: MediaTypePolicy): Promise<StoredPolicy>;
}

/** The SettingsService over `prisma`. */
export function settingsService({ prisma }: { prisma: PrismaClient }): SettingsService {
  return {
    mediaTypePolicy: () => loadPolicy(prisma),
    saveMediaTypePolicy: (policy) => savePolicy(prisma, policy),
  };
}
