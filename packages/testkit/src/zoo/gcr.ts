import type { RegistryContent } from './content.ts';
import { assembleMember, type ZooMember } from './member.ts';
import { startSignedStorage } from './storage.ts';
import { startTokenRegistry } from './token-registry.ts';

/**
 * GCR / Artifact Registry: anonymous tokens from `/v2/token`, and every blob
 * GET answered with a 302 to a signed URL on a storage origin, which refuses
 * requests that carry `Authorization`.
 */
export async function startGcr(content: RegistryContent): Promise<ZooMember> {
  const storage = await startSignedStorage(content);
  const { origin } = await startTokenRegistry(content, {
    service: 'gcr.io',
    realmPath: '/v2/token',
    blobRedirect: (_name, digest) => ({ status: 302, location: storage.sign(digest) }),
  });
  return assembleMember({ name: 'gcr', auth: 'bearer', registry: origin, storage });
}
