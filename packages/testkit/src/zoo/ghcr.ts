import type { RegistryContent } from './content.ts';
import { assembleMember, type ZooMember } from './member.ts';
import { startTokenRegistry } from './token-registry.ts';

/** GHCR: every request, public pulls included, needs a Bearer token; `/token` hands out anonymous ones. */
export async function startGhcr(content: RegistryContent): Promise<ZooMember> {
  const { origin } = await startTokenRegistry(content, { service: 'ghcr.io', realmPath: '/token' });
  return assembleMember({ name: 'ghcr', auth: 'bearer', registry: origin });
}
