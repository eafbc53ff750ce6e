import picomatch from 'picomatch';
import { z } from 'zod';
import { isManifestMediaType } from './kinds.ts';
import type { ParsedManifest } from './parse.ts';

const pattern = z.string().trim().min(1).max(255);

/**
 * Which media types a mirror takes in. Data, not code: the API stores it and
 * may change it at runtime. Patterns are globs over media types (`*` stops at
 * `/`, so `*\/*` is every type; case-insensitive, as media types are).
 * An empty `allow` allows every type; `deny` wins over `allow`.
 */
export const MediaTypePolicy = z.object({
  /** Off: only images, schema-1 images and indexes of manifests pass. */
  artifacts: z.boolean().default(true),
  /** When non-empty, every type a manifest names must match one of these. */
  allow: z.array(pattern).default([]),
  /** A manifest naming any type that matches one of these is rejected. */
  deny: z.array(pattern).default([]),
});
export type MediaTypePolicy = z.infer<typeof MediaTypePolicy>;

export const DEFAULT_POLICY: Readonly<MediaTypePolicy> = Object.freeze(MediaTypePolicy.parse({}));

export type PolicyDecision = { decision: 'accept' } | { decision: 'reject'; reason: string };

interface NamedType {
  /** Where the type stands, for the reason: `config`, `layers[2]`, `manifests[0].artifactType`. */
  where: string;
  type: string;
}

/** Every media type a manifest names: its own, config, layers, artifact type, and its entries' for an index. */
function namedTypes(parsed: ParsedManifest): NamedType[] {
  const types: NamedType[] = [{ where: 'manifest', type: parsed.mediaType }];
  if (parsed.config !== undefined) types.push({ where: 'config', type: parsed.config.mediaType });
  parsed.layers.forEach((layer, i) => types.push({ where: `${layersField(parsed)}[${i}]`, type: layer.mediaType }));
  parsed.children.forEach((child, i) => {
    types.push({ where: `manifests[${i}]`, type: child.mediaType });
    if (child.artifactType !== undefined) types.push({ where: `manifests[${i}].artifactType`, type: child.artifactType });
  });
  if (parsed.artifactType !== undefined) types.push({ where: 'artifactType', type: parsed.artifactType });
  return types;
}

function layersField(parsed: ParsedManifest): string {
  return parsed.kind === 'oci-artifact-manifest' ? 'blobs' : 'layers';
}

const matcher = (glob: string) => picomatch(glob, { nocase: true });

export function evaluatePolicy(parsed: ParsedManifest, policy: MediaTypePolicy): PolicyDecision {
  const types = namedTypes(parsed);
  for (const glob of policy.deny) {
    const isMatch = matcher(glob);
    const hit = types.find(({ type }) => isMatch(type));
    if (hit !== undefined) return reject(`${hit.where} media type ${hit.type} matches deny pattern ${glob}`);
  }
  if (policy.allow.length > 0) {
    const allowed = policy.allow.map(matcher);
    const miss = types.find(({ type }) => !allowed.some((isMatch) => isMatch(type)));
    if (miss !== undefined) return reject(`${miss.where} media type ${miss.type} matches no allow pattern`);
  }
  if (!policy.artifacts) {
    const problem = artifactProblem(parsed);
    if (problem !== undefined) return reject(`artifacts are disabled: ${problem}`);
  }
  return { decision: 'accept' };
}

/**
 * With artifacts off, an index passes when it lists manifests only and is no
 * artifact itself; a platform entry that turns out to be an attestation is
 * judged when it is fetched.
 */
function artifactProblem(parsed: ParsedManifest): string | undefined {
  if (parsed.classification === 'image' || parsed.classification === 'legacy-schema1') return undefined;
  if (parsed.classification !== 'index') {
    return `this manifest is classified ${parsed.classification} (artifact type ${parsed.artifactType ?? 'none'})`;
  }
  if (parsed.artifactType !== undefined) return `this index has artifact type ${parsed.artifactType}`;
  const blob = parsed.children.findIndex((child) => !isManifestMediaType(child.mediaType));
  if (blob !== -1) return `manifests[${blob}] is ${parsed.children[blob]?.mediaType}, not a manifest`;
  return undefined;
}

function reject(reason: string): PolicyDecision {
  return { decision: 'reject', reason };
}
