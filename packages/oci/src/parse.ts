import type { z } from 'zod';
import { classify, type Classification } from './classify.ts';
import { digestOf } from './digest.ts';
import { OciError, type OciErrorCode } from './errors.ts';
import { formatPath } from './json-path.ts';
import { schema1Payload } from './jws.ts';
import { detectKind, KIND_MEDIA_TYPE, type ManifestKind } from './kinds.ts';
import type { Descriptor } from './schemas/descriptor.ts';
import {
  dockerManifest,
  dockerManifestList,
  dockerSchema1,
  dockerSchema1Signed,
  type DockerManifest,
  type DockerManifestList,
  type DockerSchema1,
  type DockerSchema1Signed,
} from './schemas/docker.ts';
import { ociArtifactManifest, ociImageIndex, ociImageManifest, type OciArtifactManifest, type OciImageIndex, type OciImageManifest } from './schemas/oci.ts';
import { parseStrictJson } from './strict-json.ts';

/** Distribution registries must accept at least 4 MiB; larger is refused before any parsing. */
export const DEFAULT_MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export interface ParseManifestOptions {
  /** The Content-Type the manifest was served or pushed with; consulted only when the document has no `mediaType`. */
  contentType?: string;
  maxBytes?: number;
}

interface ParsedFields {
  /** The bytes passed in, not copied: store and serve exactly these. */
  bytes: Uint8Array;
  /** sha256 over `bytes`; for signed schema 1, over the JWS payload. */
  digest: string;
  /** The detected kind's media type (the declared one, when the document declares one). */
  mediaType: string;
  classification: Classification;
  /** `artifactType`, else the config type (manifests); `artifactType` or nothing (indexes). */
  artifactType: string | undefined;
  subject: Descriptor | undefined;
  config: Descriptor | undefined;
  /** Blobs a manifest references besides its config (OCI and Docker layers, artifact-manifest blobs). */
  layers: readonly Descriptor[];
  /** Index and manifest-list entries, platform included. */
  children: readonly Descriptor[];
  /** Schema 1 only: distinct `fsLayers[].blobSum` digests, in document order (schema 1 has no descriptors). */
  schema1Blobs: readonly string[];
  annotations: Readonly<Record<string, string>> | undefined;
}

export type ParsedManifest = ParsedFields &
  (
    | { kind: 'oci-manifest'; document: OciImageManifest }
    | { kind: 'oci-index'; document: OciImageIndex }
    | { kind: 'oci-artifact-manifest'; document: OciArtifactManifest }
    | { kind: 'docker-manifest'; document: DockerManifest }
    | { kind: 'docker-manifest-list'; document: DockerManifestList }
    | { kind: 'docker-schema1'; document: DockerSchema1 }
    | { kind: 'docker-schema1-signed'; document: DockerSchema1Signed }
  );

/** Strict UTF-8: a manifest with invalid bytes would digest one way and read another. The BOM is kept so JSON refuses it. */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Validates a manifest's structure and describes it, keeping its exact bytes.
 * Media types are never judged here (that is `evaluatePolicy`). Throws only
 * OciError.
 */
export function parseManifest(bytes: Uint8Array, options: ParseManifestOptions = {}): ParsedManifest {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_MANIFEST_BYTES;
  if (bytes.length > maxBytes) {
    throw new OciError('MANIFEST_TOO_LARGE', `${bytes.length} bytes exceeds the ${maxBytes}-byte limit`);
  }
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    throw new OciError('JSON_INVALID', 'the bytes are not UTF-8');
  }
  const value = parseStrictJson(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new OciError('JSON_NOT_OBJECT', `a manifest is a JSON object, not ${Array.isArray(value) ? 'an array' : typeof value}`);
  }
  const kind = detectKind(value as Record<string, unknown>, options.contentType);
  return describe(kind, value, bytes);
}

function describe(kind: ManifestKind, value: object, bytes: Uint8Array): ParsedManifest {
  switch (kind) {
    case 'oci-manifest': {
      const document = validate(ociImageManifest, value);
      return { ...imageFields(bytes, kind, document, document.artifactType), kind, document };
    }
    case 'docker-manifest': {
      const document = validate(dockerManifest, value);
      return { ...imageFields(bytes, kind, document, undefined), kind, document };
    }
    case 'oci-index': {
      const document = validate(ociImageIndex, value);
      return { ...indexFields(bytes, kind, document, document.artifactType), kind, document };
    }
    case 'docker-manifest-list': {
      const document = validate(dockerManifestList, value);
      return { ...indexFields(bytes, kind, document, undefined), kind, document };
    }
    case 'oci-artifact-manifest': {
      const document = validate(ociArtifactManifest, value);
      const layers = document.blobs ?? [];
      const layerTypes = layers.map((blob) => blob.mediaType);
      return {
        ...commonFields(bytes, kind, document, digestOf(bytes)),
        classification: classify({ kind, artifactType: document.artifactType, configType: undefined, layerTypes }),
        artifactType: document.artifactType,
        layers,
        kind,
        document,
      };
    }
    case 'docker-schema1': {
      const document = validate(dockerSchema1, value);
      return { ...schema1Fields(bytes, kind, document, digestOf(bytes)), kind, document };
    }
    case 'docker-schema1-signed': {
      const document = validate(dockerSchema1Signed, value);
      const digest = digestOf(schema1Payload(bytes, document.signatures));
      return { ...schema1Fields(bytes, kind, document, digest), kind, document };
    }
  }
}

type ImageManifest = OciImageManifest | DockerManifest;

function imageFields(bytes: Uint8Array, kind: ManifestKind, document: ImageManifest, artifactType: string | undefined) {
  const layerTypes = document.layers.map((layer) => layer.mediaType);
  return {
    ...commonFields(bytes, kind, document, digestOf(bytes)),
    classification: classify({ kind, artifactType, configType: document.config.mediaType, layerTypes }),
    artifactType: artifactType ?? document.config.mediaType,
    config: document.config,
    layers: document.layers,
  };
}

function indexFields(bytes: Uint8Array, kind: ManifestKind, document: OciImageIndex | DockerManifestList, artifactType: string | undefined) {
  return {
    ...commonFields(bytes, kind, document, digestOf(bytes)),
    classification: 'index' as const,
    artifactType,
    children: document.manifests,
  };
}

function schema1Fields(bytes: Uint8Array, kind: ManifestKind, document: DockerSchema1, digest: string) {
  return {
    ...commonFields(bytes, kind, document, digest),
    classification: 'legacy-schema1' as const,
    schema1Blobs: [...new Set(document.fsLayers.map((layer) => layer.blobSum))],
  };
}

/** The fields every kind has, with the empty values each kind then overrides with what it holds. */
function commonFields(bytes: Uint8Array, kind: ManifestKind, document: object, digest: string) {
  const { subject, annotations } = document as { subject?: Descriptor; annotations?: Record<string, string> };
  return {
    bytes,
    digest,
    mediaType: KIND_MEDIA_TYPE[kind],
    artifactType: undefined as string | undefined,
    subject,
    config: undefined as Descriptor | undefined,
    layers: [] as readonly Descriptor[],
    children: [] as readonly Descriptor[],
    schema1Blobs: [] as readonly string[],
    annotations,
  };
}

function validate<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw toOciError(result.error.issues[0]);
}

/** The first issue, with the code a `coded` refinement attached, else MANIFEST_INVALID. */
function toOciError(issue: z.core.$ZodIssue | undefined): OciError {
  if (issue === undefined) return new OciError('MANIFEST_INVALID', 'invalid manifest');
  const code: OciErrorCode = issue.code === 'custom' ? (issue.params?.['code'] as OciErrorCode) : 'MANIFEST_INVALID';
  return new OciError(code, issue.message, formatPath(issue.path as (string | number)[]));
}
