import type { PrismaClient } from '@cistern/db';

/**
 * The manifests that travel with `roots`: an index's children and every
 * manifest's referrers (signatures, SBOMs, attestations), recursively, limited
 * to `within` (the content of the version they come from).
 */
export async function manifestClosure(prisma: PrismaClient, roots: Iterable<string>, within: ReadonlySet<string>): Promise<Set<string>> {
  const found = new Set<string>();
  let frontier = [...roots].filter((d) => within.has(d));
  while (frontier.length > 0) {
    frontier.forEach((d) => found.add(d));
    const [children, referrers] = await Promise.all([
      prisma.manifestChild.findMany({ where: { indexDigest: { in: frontier } }, select: { childDigest: true } }),
      prisma.manifest.findMany({ where: { subjectDigest: { in: frontier } }, select: { digest: true } }),
    ]);
    frontier = [...children.map((c) => c.childDigest), ...referrers.map((r) => r.digest)].filter((d) => within.has(d) && !found.has(d));
  }
  return found;
}
