/** The zod schemas themselves, for callers that validate a piece (a descriptor, a platform) on its own. */
export { descriptor, dockerListEntry, EMPTY_DATA, EMPTY_DIGEST, EMPTY_SIZE, platform } from './descriptor.ts';
export { dockerManifest, dockerManifestList, dockerSchema1, dockerSchema1Signed } from './docker.ts';
export { ociArtifactManifest, ociImageIndex, ociImageManifest } from './oci.ts';
