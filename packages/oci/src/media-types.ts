/**
 * The media types Cistern knows by name. Knowing a type never gates
 * acceptance (unknown types are policy, not errors); the names exist for
 * kind detection, classification and the Accept header.
 */
export const MediaType = {
  // OCI image-spec
  OciManifest: 'application/vnd.oci.image.manifest.v1+json',
  OciIndex: 'application/vnd.oci.image.index.v1+json',
  OciConfig: 'application/vnd.oci.image.config.v1+json',
  OciLayer: 'application/vnd.oci.image.layer.v1.tar',
  OciLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  OciLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  OciLayerNondistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  OciLayerNondistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  OciLayerNondistributableZstd: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  OciEmpty: 'application/vnd.oci.empty.v1+json',
  /** Proposed and dropped before image-spec v1.1.0; legacy content still uses it. */
  OciArtifactManifest: 'application/vnd.oci.artifact.manifest.v1+json',

  // Docker
  DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  DockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  DockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  DockerConfig: 'application/vnd.docker.container.image.v1+json',
  DockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  DockerForeignLayer: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  DockerPluginConfig: 'application/vnd.docker.plugin.v1+json',

  // Helm
  HelmConfig: 'application/vnd.cncf.helm.config.v1+json',
  HelmChart: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip',
  HelmProvenance: 'application/vnd.cncf.helm.chart.provenance.v1.prov',

  // Singularity / Apptainer
  SifConfig: 'application/vnd.sylabs.sif.config.v1+json',
  SifLayer: 'application/vnd.sylabs.sif.layer.v1.sif',

  // Sigstore / cosign
  CosignSimpleSigning: 'application/vnd.dev.cosign.simplesigning.v1+json',
  DsseEnvelope: 'application/vnd.dsse.envelope.v1+json',
  SigstoreBundle: 'application/vnd.dev.sigstore.bundle.v0.3+json',

  // SBOMs and attestations
  SpdxText: 'text/spdx',
  SpdxTextJson: 'text/spdx+json',
  SpdxJson: 'application/spdx+json',
  CycloneDx: 'application/vnd.cyclonedx',
  CycloneDxJson: 'application/vnd.cyclonedx+json',
  CycloneDxXml: 'application/vnd.cyclonedx+xml',
  SyftJson: 'application/vnd.syft+json',
  InToto: 'application/vnd.in-toto+json',

  // Notation
  NotarySignature: 'application/vnd.cncf.notary.signature',
  JoseJson: 'application/jose+json',
  Cose: 'application/cose',

  // WASM
  WasmConfig: 'application/vnd.wasm.config.v1+json',
  WasmLayer: 'application/vnd.wasm.content.layer.v1+wasm',

  // OPA / conftest
  OpaConfig: 'application/vnd.cncf.openpolicyagent.config.v1+json',
  OpaPolicyLayer: 'application/vnd.cncf.openpolicyagent.policy.layer.v1+rego',
  OpaDataLayer: 'application/vnd.cncf.openpolicyagent.data.layer.v1+json',

  // Flux
  FluxConfig: 'application/vnd.cncf.flux.config.v1+json',
  FluxContent: 'application/vnd.cncf.flux.content.v1.tar+gzip',

  // ORAS, Trivy, BuildKit
  OrasUnknownArtifact: 'application/vnd.unknown.artifact.v1',
  TrivyConfig: 'application/vnd.aquasec.trivy.config.v1+json',
  TrivyDbLayer: 'application/vnd.aquasec.trivy.db.layer.v1.tar+gzip',
  BuildKitCacheConfig: 'application/vnd.buildkit.cacheconfig.v0',
} as const;

export type KnownMediaType = (typeof MediaType)[keyof typeof MediaType];

/** Annotation keys the sync and classification read. */
export const Annotation = {
  /** BuildX marks an index entry that is an attestation manifest, not a platform image. */
  DockerReferenceType: 'vnd.docker.reference.type',
  /** On a BuildX attestation entry: the digest of the image it attests. */
  DockerReferenceDigest: 'vnd.docker.reference.digest',
  CosignSignature: 'dev.cosignproject.cosign/signature',
  InTotoPredicateType: 'in-toto.io/predicate-type',
} as const;

/**
 * Everything a mirror asks upstream for, on HEAD and GET alike (a registry may
 * answer a different digest, or a 404, when Accept differs). Schema 1 comes
 * last so that a registry able to convert never prefers it.
 */
export const MANIFEST_ACCEPT: readonly string[] = Object.freeze([
  MediaType.OciIndex,
  MediaType.OciManifest,
  MediaType.DockerManifestList,
  MediaType.DockerManifest,
  MediaType.OciArtifactManifest,
  MediaType.DockerSchema1Signed,
  MediaType.DockerSchema1,
]);

export function manifestAcceptHeader(): string {
  return MANIFEST_ACCEPT.join(', ');
}

/** RFC 6838 restricted-name grammar, as the image spec quotes it. */
const RFC6838 = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

export function isMediaType(s: string): boolean {
  return RFC6838.test(s);
}

/** A Content-Type header's media type: parameters dropped, lowercased (RFC 6838 names are case-insensitive). */
export function contentTypeMediaType(header: string): string {
  const semicolon = header.indexOf(';');
  return (semicolon === -1 ? header : header.slice(0, semicolon)).trim().toLowerCase();
}
