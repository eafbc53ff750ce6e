import type { RegistryContent } from './content.ts';
import { assembleMember, type ZooMember } from './member.ts';
import { startTokenRegistry } from './token-registry.ts';

/** Harbor: anonymous tokens from `/service/token` for public projects, and the Referrers API. */
export async function startHarbor(content: RegistryContent): Promise<ZooMember> {
  const { origin } = await startTokenRegistry(content, { service: 'harbor-registry', realmPath: '/service/token', referrersApi: true });
  return assembleMember({ name: 'harbor', auth: 'bearer', registry: origin, referrersApi: true });
}
