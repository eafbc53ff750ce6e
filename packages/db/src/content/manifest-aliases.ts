import type { Prisma, PrismaClient } from '../generated/client.ts';

/**
 * Whether `digest` can name a manifest only through an alias: a Manifest row's
 * own digest is always its sha256, so sha256 digests never need resolving.
 */
export function isAliasDigest(digest: string): boolean {
  return !digest.startsWith('sha256:');
}

/**
 * alias → canonical (sha256) digest, for each of `digests` that is a known
 * alias; others are absent. Costs no query when every digest is sha256.
 */
export async function resolveAliases(client: PrismaClient | Prisma.TransactionClient, digests: Iterable<string>): Promise<Map<string, string>> {
  const wanted = [...new Set([...digests].filter(isAliasDigest))];
  if (wanted.length === 0) return new Map();
  const rows = await client.manifestAlias.findMany({ where: { digest: { in: wanted } }, select: { digest: true, manifestDigest: true } });
  return new Map(rows.map((row) => [row.digest, row.manifestDigest]));
}

/** Matches the manifest known by `digest`: by its own digest for sha256, else through an alias. */
export function manifestKnownBy(digest: string): Prisma.ManifestWhereInput {
  return isAliasDigest(digest) ? { aliases: { some: { digest } } } : { digest };
}
