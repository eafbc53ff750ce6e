export { OciError, type OciErrorCode } from './errors.ts';
export {
  createDigester,
  digestOf,
  isDigest,
  parseDigest,
  verifyDigest,
  type Digester,
  type DigestAlgorithm,
  type ParsedDigest,
} from './digest.ts';
export { manifestDigest } from './manifest-digest.ts';
export {
  Annotation,
  contentTypeMediaType,
  isMediaType,
  MANIFEST_ACCEPT,
  manifestAcceptHeader,
  MediaType,
  type KnownMediaType,
} from './media-types.ts';
export { isManifestMediaType, type ManifestKind } from './kinds.ts';
export { classify, type Classification } from './classify.ts';
export { MAX_JSON_DEPTH, parseStrictJson } from './strict-json.ts';
export { DEFAULT_MAX_MANIFEST_BYTES, parseManifest, type ParsedManifest, type ParseManifestOptions } from './parse.ts';
export { DEFAULT_POLICY, evaluatePolicy, MediaTypePolicy, type PolicyDecision } from './policy.ts';
export { cosignTagsFor, isSupplyChainTag, referrerDescriptor, referrersTagFor } from './referrers.ts';
export { formatPlatform, platformMatches, type PlatformLike } from './platform.ts';
export { isRepositoryName, isTag, MAX_NAME_LENGTH, normalizeUpstream, parseReference, type Reference } from './names.ts';
export * as schemas from './schemas/index.ts';
export type { Descriptor, Platform } from './schemas/descriptor.ts';
export type {
  DockerManifest,
  DockerManifestList,
  DockerSchema1,
  DockerSchema1Signed,
} from './schemas/docker.ts';
export type { OciArtifactManifest, OciImageIndex, OciImageManifest } from './schemas/oci.ts';
