import { z } from 'zod';
import { describeBadDigest, isDigest } from '../digest.ts';
import type { OciErrorCode } from '../errors.ts';
import { isMediaType } from '../media-types.ts';

/**
 * A refinement whose failure carries an OciError code in `params.code`, which
 * `toOciError` reads back. Wrong JSON types stay zod's own issues and become
 * MANIFEST_INVALID.
 */
export function coded<T>(base: z.ZodType<T>, code: OciErrorCode, problem: (value: T) => string | undefined) {
  return base.superRefine((value, ctx) => {
    const message = problem(value);
    if (message !== undefined) ctx.addIssue({ code: 'custom', message, params: { code } });
  });
}

export const digest = coded(z.string(), 'DIGEST_INVALID', (s) => (isDigest(s) ? undefined : describeBadDigest(s)));

export const mediaType = coded(z.string(), 'MEDIA_TYPE_INVALID', (s) => (isMediaType(s) ? undefined : `${JSON.stringify(s)} is not an RFC 6838 media type`));

/** Sizes are int64 on the wire; the strict JSON scanner already refused what a double cannot hold. */
export const size = coded(z.number(), 'SIZE_INVALID', (n) => (Number.isInteger(n) && n >= 0 ? undefined : `${n} is not a non-negative integer`));

export const schemaVersion = (expected: number) =>
  coded(z.number(), 'SCHEMA_VERSION_INVALID', (n) => (n === expected ? undefined : `must be ${expected}, not ${n}`));

export const annotations = z.record(z.string(), z.string());

export const url = coded(z.string(), 'MANIFEST_INVALID', (s) => (URL.canParse(s) ? undefined : `${JSON.stringify(s)} is not an absolute URL`));

/**
 * An image manifest with `manifests`, or an index with `config` or `layers`,
 * reads as either kind (CVE-2021-41190); Distribution and containerd refuse
 * both, and so does Cistern.
 */
export function forbidOtherKindFields(...keys: string[]) {
  return (doc: object, ctx: z.RefinementCtx): void => {
    const found = keys.find((key) => key in doc);
    if (found === undefined) return;
    ctx.addIssue({
      code: 'custom',
      path: [found],
      message: 'belongs to another manifest kind; a document with both is ambiguous',
      params: { code: 'MANIFEST_INVALID' },
    });
  };
}
