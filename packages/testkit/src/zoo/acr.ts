import type { RegistryContent } from './content.ts';
import { assembleMember, type ZooMember } from './member.ts';
import { startTokenRegistry } from './token-registry.ts';

/** Azure Container Registry with anonymous pull enabled: tokens from `/oauth2/token`, and the Referrers API. */
export async function startAcr(content: RegistryContent): Promise<ZooMember> {
  const { origin } = await startTokenRegistry(content, { service: 'zoo.azurecr.io', realmPath: '/oauth2/token', referrersApi: true });
  return assembleMember({ name: 'acr', auth: 'bearer', registry: origin, referrersApi: true });
}
