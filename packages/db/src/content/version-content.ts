import type { PrismaClient } from '../generated/client.ts';
import { inVersion } from './version-range.ts';

/** The manifest digests of version `n`. */
export async function versionManifests(prisma: PrismaClient, repositoryId: string, n: number): Promise<Set<string>> {
  const rows = await prisma.repositoryManifest.findMany({
    where: { repositoryId, ...inVersion(n) },
    select: { manifestDigest: true },
  });
  return new Set(rows.map((r) => r.manifestDigest));
}

/** The tags of version `n`, name → manifest digest. */
export async function versionTags(prisma: PrismaClient, repositoryId: string, n: number): Promise<Map<string, string>> {
  const rows = await prisma.repositoryTag.findMany({
    where: { repositoryId, ...inVersion(n) },
    select: { name: true, manifestDigest: true },
  });
  return new Map(rows.map((r) => [r.name, r.manifestDigest]));
}
