import { DiffCursorText } from '@cistern/domain';
import { z } from 'zod';
import { Bytes, Id, PageQuery } from './common.ts';
import { VersionNumberText } from './repositories.ts';

export const VersionDiffQuery = PageQuery.pick({ limit: true }).extend({
  base: VersionNumberText.optional().describe('the version compared against (any version, older or newer); default: the newest older one still stored'),
  after: DiffCursorText.optional().describe('where the page starts; follow `next` rather than writing it'),
});

const Digest = z.string();
const Total = z.object({ count: z.number().int(), bytes: Bytes });

const TagChange = z.object({
  type: z.literal('tag'),
  change: z.enum(['added', 'removed', 'moved']),
  name: z.string(),
  digest: Digest.describe('the manifest the tag points at in the version; for a removed tag, the one it pointed at in the base'),
  from: Digest.nullable().describe('for a moved tag, the manifest it pointed at in the base'),
});

const ManifestChange = z.object({
  type: z.literal('manifest'),
  change: z.enum(['added', 'removed']),
  digest: Digest,
  mediaType: z.string(),
  artifactType: z.string().nullable(),
  classification: z.string().describe('image, index, helm, cosign-signature, sbom, attestation, … as the content lists say'),
  size: Bytes,
});

const BlobChange = z.object({ type: z.literal('blob'), change: z.enum(['added', 'removed']), digest: Digest, size: Bytes });

export const VersionDiff = z
  .object({
    repository: Id,
    version: z.number().int(),
    base: z.number().int(),
    versionHref: z.string(),
    baseHref: z.string(),
    summary: z
      .object({
        tags: z.object({ added: z.number().int(), removed: z.number().int(), moved: z.number().int() }),
        manifests: z.object({ added: Total, removed: Total }),
        blobs: z.object({ added: Total, removed: Total }).describe("derived from the manifests: a blob another of the version's manifests keeps is no change"),
      })
      .nullable()
      .describe('over the whole diff, on the first page only (null on the pages `next` leads to)'),
    changes: z
      .array(z.discriminatedUnion('type', [TagChange, ManifestChange, BlobChange]))
      .describe('tags (by name), then manifests and blobs (by digest) of one version only'),
    next: z.string().nullable().describe('the next page; null on the last'),
  })
  .meta({ id: 'VersionDiff' });
