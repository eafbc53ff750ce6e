import { MediaTypePolicy } from '@cistern/oci';
import { z } from 'zod';
import { text, Timestamp } from './common.ts';

const Pattern = text(255).trim().min(1);

/** The OCI package's policy shape, strict so a misspelt field is a 400 rather than silently ignored. */
export const PolicyInput = z.strictObject({
  ...MediaTypePolicy.shape,
  allow: z.array(Pattern).max(500).default([]),
  deny: z.array(Pattern).max(500).default([]),
});

export const Policy = z
  .object({
    artifacts: z.boolean().describe('off: only images and indexes of images pass'),
    allow: z.array(z.string()).describe('media type globs; non-empty = every type must match one'),
    deny: z.array(z.string()).describe('media type globs; any match rejects the manifest'),
    updatedAt: Timestamp.nullable().describe('null while the defaults apply'),
  })
  .meta({ id: 'MediaTypePolicy' });
