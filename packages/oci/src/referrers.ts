import { parseDigest } from './digest.ts';
import type { ParsedManifest } from './parse.ts';
import type { Descriptor } from './schemas/descriptor.ts';

/**
 * The entry a referrers index lists for `parsed`: its descriptor, its
 * artifact type (a manifest's `artifactType` else its config type; an
 * index's `artifactType` or none) and its annotations. Keys follow the order
 * Go's image-spec types marshal, so indexes Cistern builds read like upstream's.
 */
export function referrerDescriptor(parsed: ParsedManifest): Descriptor {
  return {
    mediaType: parsed.mediaType,
    digest: parsed.digest,
    size: parsed.bytes.length,
    ...(parsed.annotations === undefined ? {} : { annotations: { ...parsed.annotations } }),
    ...(parsed.artifactType === undefined ? {} : { artifactType: parsed.artifactType }),
  };
}

/** The referrers tag schema's fallback tag: `<alg>-<ref>`, ref cut to 64 characters. */
export function referrersTagFor(digest: string): string {
  const { algorithm, encoded } = parseDigest(digest);
  return `${algorithm}-${encoded.slice(0, 64)}`;
}

/**
 * Where cosign stores signatures, attestations and SBOMs of an image. Cosign
 * spells out the full digest, so for sha512 the tag would exceed 128
 * characters: no such tags can exist.
 */
export function cosignTagsFor(digest: string): string[] {
  const { algorithm, encoded } = parseDigest(digest);
  if (algorithm !== 'sha256') return [];
  return ['sig', 'att', 'sbom'].map((suffix) => `sha256-${encoded}.${suffix}`);
}

const SUPPLY_CHAIN_TAG = /^sha(256|512)-[a-f0-9]{64}(\.(sig|att|sbom))?$/;

/**
 * Whether a tag is one of the two tag schemas' (a referrers index or a cosign
 * signature, attestation or SBOM): the only tags a sync must remember from a
 * listing, to find supply-chain evidence without probing.
 */
export function isSupplyChainTag(tag: string): boolean {
  return SUPPLY_CHAIN_TAG.test(tag);
}
