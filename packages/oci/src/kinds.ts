import { OciError } from './errors.ts';
import { contentTypeMediaType, isMediaType, MediaType } from './media-types.ts';

export type ManifestKind =
  'oci-manifest' | 'oci-index' | 'oci-artifact-manifest' | 'docker-manifest' | 'docker-manifest-list' | 'docker-schema1' | 'docker-schema1-signed';

export const KIND_MEDIA_TYPE: Record<ManifestKind, string> = {
  'oci-manifest': MediaType.OciManifest,
  'oci-index': MediaType.OciIndex,
  'oci-artifact-manifest': MediaType.OciArtifactManifest,
  'docker-manifest': MediaType.DockerManifest,
  'docker-manifest-list': MediaType.DockerManifestList,
  'docker-schema1': MediaType.DockerSchema1,
  'docker-schema1-signed': MediaType.DockerSchema1Signed,
};

const KIND_OF = new Map(Object.entries(KIND_MEDIA_TYPE).map(([kind, type]) => [type, kind as ManifestKind]));

/** Whether a media type names a manifest (as opposed to a blob), for index entries and Accept checks. */
export function isManifestMediaType(type: string): boolean {
  return KIND_OF.has(type);
}

/**
 * The document's own `mediaType` wins; then a Content-Type naming a manifest
 * type; then the shape, because umoci, skopeo and podman push manifests with
 * no `mediaType` and some registries serve them as `application/json`.
 */
export function detectKind(doc: Record<string, unknown>, contentType?: string): ManifestKind {
  const declared = doc['mediaType'];
  if (declared !== undefined) {
    if (typeof declared !== 'string') throw new OciError('MANIFEST_INVALID', 'expected a string', 'mediaType');
    if (!isMediaType(declared)) {
      throw new OciError('MEDIA_TYPE_INVALID', `${JSON.stringify(declared)} is not an RFC 6838 media type`, 'mediaType');
    }
    const kind = KIND_OF.get(declared);
    if (kind === undefined) {
      throw new OciError('UNSUPPORTED_MEDIA_TYPE', `${JSON.stringify(declared)} is not a manifest media type`, 'mediaType');
    }
    return schema1Signedness(kind, doc);
  }
  const fromHeader = contentType === undefined ? undefined : KIND_OF.get(contentTypeMediaType(contentType));
  if (fromHeader !== undefined) return schema1Signedness(fromHeader, doc);
  return kindFromShape(doc);
}

function kindFromShape(doc: Record<string, unknown>): ManifestKind {
  if ('manifests' in doc) return 'oci-index';
  if ('config' in doc) {
    const config = doc['config'];
    const isDocker = typeof config === 'object' && config !== null && (config as { mediaType?: unknown }).mediaType === MediaType.DockerConfig;
    return isDocker ? 'docker-manifest' : 'oci-manifest';
  }
  if ('fsLayers' in doc) return schema1Signedness('docker-schema1', doc);
  throw new OciError('UNSUPPORTED_MEDIA_TYPE', 'no mediaType, no manifest Content-Type, and not shaped like a manifest');
}

/**
 * Schema 1 is signed when it carries signatures, whatever the label says: the
 * digest is computed differently, so the bytes decide.
 */
function schema1Signedness(kind: ManifestKind, doc: Record<string, unknown>): ManifestKind {
  if (kind !== 'docker-schema1' && kind !== 'docker-schema1-signed') return kind;
  return 'signatures' in doc ? 'docker-schema1-signed' : 'docker-schema1';
}
