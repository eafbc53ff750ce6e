import type { ManifestKind } from './kinds.ts';
import { MediaType } from './media-types.ts';

/** Every classification a manifest can get: what it is, whatever its media types say. */
export const CLASSIFICATIONS = [
  'image',
  'index',
  'helm',
  'sif',
  'cosign-signature',
  'cosign-attestation',
  'cosign-sbom',
  'sigstore-bundle',
  'sbom',
  'attestation',
  'notation-signature',
  'wasm',
  'policy',
  'artifact',
  'legacy-schema1',
] as const;

export type Classification = (typeof CLASSIFICATIONS)[number];

export interface ClassifyInput {
  kind: ManifestKind;
  /** The manifest's own `artifactType` field. */
  artifactType: string | undefined;
  configType: string | undefined;
  layerTypes: readonly string[];
}

const SBOM_TYPES: ReadonlySet<string> = new Set([
  MediaType.SpdxText,
  MediaType.SpdxTextJson,
  MediaType.SpdxJson,
  MediaType.CycloneDx,
  MediaType.CycloneDxJson,
  MediaType.CycloneDxXml,
  MediaType.SyftJson,
]);

/** Artifact types that name a classification on their own, whatever the layers. */
const BY_ARTIFACT_TYPE: readonly [(type: string) => boolean, Classification][] = [
  [(t) => t === MediaType.HelmConfig, 'helm'],
  [(t) => t === MediaType.SifConfig, 'sif'],
  [(t) => t.startsWith('application/vnd.dev.sigstore.bundle'), 'sigstore-bundle'],
  [(t) => t === MediaType.NotarySignature, 'notation-signature'],
  [(t) => t.startsWith('application/vnd.wasm.'), 'wasm'],
  [(t) => t === MediaType.OpaConfig, 'policy'],
  [(t) => SBOM_TYPES.has(t), 'sbom'],
  [(t) => t.startsWith('application/vnd.in-toto'), 'attestation'],
];

const IMAGE_CONFIGS: ReadonlySet<string> = new Set([MediaType.OciConfig, MediaType.DockerConfig]);

const IMAGE_LAYER_PREFIXES = ['application/vnd.oci.image.layer.', 'application/vnd.docker.image.rootfs.'];

/**
 * Cosign and BuildX store signatures, attestations and SBOMs as manifests
 * with an image config: only the layer types tell them from images.
 */
const BY_LAYERS: readonly [(type: string) => boolean, Classification][] = [
  [(t) => t === MediaType.CosignSimpleSigning, 'cosign-signature'],
  [(t) => t === MediaType.DsseEnvelope, 'cosign-attestation'],
  [(t) => SBOM_TYPES.has(t), 'cosign-sbom'],
  [(t) => t === MediaType.InToto, 'attestation'],
  [(t) => IMAGE_LAYER_PREFIXES.some((prefix) => t.startsWith(prefix)), 'image'],
];

/** What a manifest is, for display, policy and the sync's choices. Never fails: the fallback is `artifact`. */
export function classify({ kind, artifactType, configType, layerTypes }: ClassifyInput): Classification {
  if (kind === 'docker-schema1' || kind === 'docker-schema1-signed') return 'legacy-schema1';
  if (kind === 'oci-index' || kind === 'docker-manifest-list') return 'index';
  const type = artifactType ?? configType;
  const named = type === undefined ? undefined : BY_ARTIFACT_TYPE.find(([test]) => test(type));
  if (named !== undefined) return named[1];
  // A declared artifactType on an image config says "not an image" (cosign's OCI 1.1 mode, oras attach).
  if (artifactType !== undefined || configType === undefined || !IMAGE_CONFIGS.has(configType)) return 'artifact';
  if (layerTypes.length === 0) return 'image';
  const byLayers = BY_LAYERS.find(([test]) => layerTypes.every(test));
  return byLayers === undefined ? 'artifact' : byLayers[1];
}
