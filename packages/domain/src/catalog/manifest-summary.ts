import type { Manifest, PrismaClient } from '@cistern/db';

/** The columns a manifest is listed with (never its bytes). */
export const manifestSelect = {
  digest: true,
  aliases: { select: { digest: true }, orderBy: { digest: 'asc' } },
  mediaType: true,
  artifactType: true,
  classification: true,
  size: true,
  subjectDigest: true,
  configDigest: true,
  createdAt: true,
} as const;

type SelectedManifest = Pick<Manifest, Exclude<keyof typeof manifestSelect, 'aliases'>> & { aliases: { digest: string }[] };

/** A manifest as listed: its columns, the other digests it is known by, and its platforms. */
export type ManifestSummary = Pick<Manifest, Exclude<keyof typeof manifestSelect, 'aliases'>> & {
  aliases: string[];
  /** An index's entries' platforms, or the platforms an image is listed under; sorted, each once. */
  platforms: string[];
};

/** Selected manifest rows as summaries, with one query for every row's platforms. */
export async function summarize(prisma: PrismaClient, rows: SelectedManifest[]): Promise<ManifestSummary[]> {
  const digests = rows.map((r) => r.digest);
  // An index may list an image by any of its digests.
  const names = rows.flatMap((r) => [r.digest, ...r.aliases.map((a) => a.digest)]);
  const links = await prisma.manifestChild.findMany({
    where: { platform: { not: null }, OR: [{ indexDigest: { in: digests } }, { childDigest: { in: names } }] },
    select: { indexDigest: true, childDigest: true, platform: true },
  });
  return rows.map((row) => {
    const aliases = row.aliases.map((a) => a.digest);
    const own = links
      .filter((l) => l.indexDigest === row.digest || l.childDigest === row.digest || aliases.includes(l.childDigest))
      .map((l) => l.platform as string);
    return { ...row, aliases, platforms: [...new Set(own)].sort() };
  });
}
