import { z } from 'zod';
import { descriptor, dockerListEntry } from './descriptor.ts';
import { digest, forbidOtherKindFields, schemaVersion } from './primitives.ts';

export const dockerManifest = z
  .looseObject({
    schemaVersion: schemaVersion(2),
    mediaType: z.string().optional(),
    config: descriptor,
    layers: z.array(descriptor),
  })
  .superRefine(forbidOtherKindFields('manifests'));

export const dockerManifestList = z
  .looseObject({
    schemaVersion: schemaVersion(2),
    mediaType: z.string().optional(),
    manifests: z.array(dockerListEntry),
  })
  .superRefine(forbidOtherKindFields('config', 'layers'));

const jwsSignature = z.looseObject({
  header: z.looseObject({ alg: z.string(), jwk: z.looseObject({}).optional() }),
  signature: z.string(),
  protected: z.string(),
});

const schema1Shape = {
  schemaVersion: schemaVersion(1),
  name: z.string(),
  tag: z.string(),
  architecture: z.string(),
  fsLayers: z.array(z.looseObject({ blobSum: digest })),
  history: z.array(z.looseObject({ v1Compatibility: z.string() })),
};

/** Each history entry describes the layer at the same index; Distribution refuses a mismatch too. */
function sameLength(m: { fsLayers: unknown[]; history: unknown[] }, ctx: z.RefinementCtx): void {
  if (m.fsLayers.length !== m.history.length) {
    ctx.addIssue({
      code: 'custom',
      path: ['history'],
      message: `has ${m.history.length} entries for ${m.fsLayers.length} fsLayers`,
      params: { code: 'MANIFEST_INVALID' },
    });
  }
}

export const dockerSchema1 = z.looseObject(schema1Shape).superRefine(sameLength);

export const dockerSchema1Signed = z.looseObject({ ...schema1Shape, signatures: z.array(jwsSignature).min(1) }).superRefine(sameLength);

export type DockerManifest = z.infer<typeof dockerManifest>;
export type DockerManifestList = z.infer<typeof dockerManifestList>;
export type DockerSchema1 = z.infer<typeof dockerSchema1>;
export type DockerSchema1Signed = z.infer<typeof dockerSchema1Signed>;
