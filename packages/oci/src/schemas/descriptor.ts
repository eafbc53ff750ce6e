import { z } from 'zod';
import { digestOf, parseDigest } from '../digest.ts';
import { MediaType } from '../media-types.ts';
import { annotations, digest, mediaType, size, url } from './primitives.ts';

/** The empty descriptor's content is the two bytes `{}`. */
export const EMPTY_DIGEST = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';
export const EMPTY_SIZE = 2;
export const EMPTY_DATA = 'e30=';

export const platform = z.looseObject({
  architecture: z.string(),
  os: z.string(),
  'os.version': z.string().optional(),
  'os.features': z.array(z.string()).optional(),
  variant: z.string().optional(),
  features: z.array(z.string()).optional(),
});

const descriptorShape = {
  mediaType,
  digest,
  size,
  urls: z.array(url).optional(),
  annotations: annotations.optional(),
  data: z.string().optional(),
  platform: platform.optional(),
  artifactType: mediaType.optional(),
};

type DescriptorFields = z.infer<z.ZodObject<typeof descriptorShape>>;

/**
 * Rules between fields: embedded `data` must be the content the digest and
 * size name (a reader may trust `data` instead of fetching), and a descriptor
 * of the empty type must name the bytes `{}`.
 */
function checkContent(d: DescriptorFields, ctx: z.RefinementCtx): void {
  if (d.mediaType === MediaType.OciEmpty && (d.digest !== EMPTY_DIGEST || d.size !== EMPTY_SIZE)) {
    ctx.addIssue({
      code: 'custom',
      path: d.digest === EMPTY_DIGEST ? ['size'] : ['digest'],
      message: `the empty descriptor must have digest ${EMPTY_DIGEST} and size ${EMPTY_SIZE}`,
      params: { code: 'EMPTY_DESCRIPTOR_INVALID' },
    });
  }
  if (d.data === undefined) return;
  const problem = dataProblem(d.data, d.digest, d.size);
  if (problem !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['data'], message: problem, params: { code: 'DATA_MISMATCH' } });
  }
}

function dataProblem(data: string, digest: string, size: number): string | undefined {
  const bytes = Buffer.from(data, 'base64');
  // Node decodes leniently (skips junk, ignores stray bits); only canonical padded base64 (RFC 4648 §4) round-trips.
  if (bytes.toString('base64') !== data) return 'is not canonical padded base64';
  if (bytes.length !== size) return `decodes to ${bytes.length} bytes, but size is ${size}`;
  if (digestOf(bytes, parseDigest(digest).algorithm) !== digest) return `does not match digest ${digest}`;
  return undefined;
}

export const descriptor = z.looseObject(descriptorShape).superRefine(checkContent);

/** Docker manifest lists require a platform on every entry. */
export const dockerListEntry = z.looseObject({ ...descriptorShape, platform }).superRefine(checkContent);

export type Descriptor = z.infer<typeof descriptor>;
export type Platform = z.infer<typeof platform>;
