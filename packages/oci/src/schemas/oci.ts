import { z } from 'zod';
import { MediaType } from '../media-types.ts';
import { descriptor } from './descriptor.ts';
import { annotations, forbidOtherKindFields, mediaType, schemaVersion } from './primitives.ts';

/**
 * Image-spec v1.1 manifest. `layers: []` is accepted although the prose
 * wants one: the conformance suite pushes it. `mediaType` is optional (umoci,
 * skopeo and podman omit it); kind detection has already vouched for it.
 */
export const ociImageManifest = z
  .looseObject({
    schemaVersion: schemaVersion(2),
    mediaType: z.string().optional(),
    artifactType: mediaType.optional(),
    config: descriptor,
    layers: z.array(descriptor),
    subject: descriptor.optional(),
    annotations: annotations.optional(),
  })
  .superRefine(forbidOtherKindFields('manifests'))
  .superRefine((m, ctx) => {
    if (m.config.mediaType === MediaType.OciEmpty && m.artifactType === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['artifactType'],
        message: 'is required when config is the empty descriptor',
        params: { code: 'ARTIFACT_TYPE_REQUIRED' },
      });
    }
  });

/** Entries may be nested indexes or, as in BuildKit's registry cache, plain blobs. */
export const ociImageIndex = z
  .looseObject({
    schemaVersion: schemaVersion(2),
    mediaType: z.string().optional(),
    artifactType: mediaType.optional(),
    manifests: z.array(descriptor),
    subject: descriptor.optional(),
    annotations: annotations.optional(),
  })
  .superRefine(forbidOtherKindFields('config', 'layers'));

/** The artifact manifest dropped before image-spec v1.1.0; it never had a schemaVersion. */
export const ociArtifactManifest = z.looseObject({
  mediaType: z.literal(MediaType.OciArtifactManifest),
  artifactType: mediaType,
  blobs: z.array(descriptor).optional(),
  subject: descriptor.optional(),
  annotations: annotations.optional(),
});

export type OciImageManifest = z.infer<typeof ociImageManifest>;
export type OciImageIndex = z.infer<typeof ociImageIndex>;
export type OciArtifactManifest = z.infer<typeof ociArtifactManifest>;
