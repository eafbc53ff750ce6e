import type { PrismaClient } from '../generated/client.ts';
import { resolveAliases } from './manifest-aliases.ts';

/**
 * The manifests that travel with `roots`: an index's children and every
 * manifest's referrers (signatures, SBOMs, attestations), recursively, limited
 * to `within` (the content of the version they come from). Digests are
 * canonical (sha256); children and subjects named by an alias are followed too.
 */
export async function manifestClosure(prisma: PrismaClient, roots: Iterable<string>, within: ReadonlySet<string>): Promise<Set<string>> {
  const found = new Set<string>();
  let frontier = [...roots].filter((d) => within.has(d));
  while (frontier.length > 0) {
    frontier.forEach((d) => found.add(d));
    const [children, aliases] = await Promise.all([
      prisma.manifestChild.findMany({ where: { indexDigest: { in: frontier } }, select: { childDigest: true } }),
      prisma.manifestAlias.findMany({ where: { manifestDigest: { in: frontier } }, select: { digest: true } }),
    ]);
    const [childAliases, referrers] = await Promise.all([
      resolveAliases(
        prisma,
        children.map((c) => c.childDigest),
      ),
      prisma.manifest.findMany({ where: { subjectDigest: { in: [...frontier, ...aliases.map((a) => a.digest)] } }, select: { digest: true } }),
    ]);
    const childDigests = children.map((c) => childAliases.get(c.childDigest) ?? c.childDigest);
    frontier = [...childDigests, ...referrers.map((r) => r.digest)].filter((d) => within.has(d) && !found.has(d));
  }
  return found;
}
