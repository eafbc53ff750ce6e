import { CLASSIFICATIONS, isDigest, isMediaType } from '@cistern/oci';
import { z } from 'zod';
import { Id, PageQuery, text, Timestamp } from './common.ts';
import { VersionNumberText } from './repositories.ts';

export const Digest = z.string().max(200).refine(isDigest, 'must be a digest, e.g. sha256:<64 hex>');

const MediaTypeFilter = z.string().max(255).refine(isMediaType, 'must be a media type, type/subtype (RFC 6838)');

export const DigestParams = z.strictObject({ digest: Digest });

const inVersion = {
  repository: Id.optional().describe('only content of (any version of) this repository'),
  repositoryVersion: VersionNumberText.optional().describe('only content of this version (its number) of `repository`, which it needs'),
};

export const ManifestListQuery = PageQuery.extend({
  ...inVersion,
  digest: Digest.optional(),
  mediaType: MediaTypeFilter.optional(),
  classification: z.enum(CLASSIFICATIONS).optional(),
  artifactType: MediaTypeFilter.optional(),
});

export const ReferrersQuery = PageQuery.extend({ ...inVersion, artifactType: MediaTypeFilter.optional() });

export const BlobListQuery = PageQuery.extend({ ...inVersion, digest: Digest.optional() });

export const TagListQuery = PageQuery.extend({
  ...inVersion,
  name: text(128).optional(),
  name__contains: text(128).optional(),
  digest: Digest.optional(),
});

export const Manifest = z
  .object({
    digest: z.string().describe('its sha256, over its bytes'),
    aliases: z.array(z.string()).describe('other digests it is known by (sha512:…); every one of them finds it'),
    href: z.string(),
    mediaType: z.string(),
    artifactType: z.string().nullable(),
    classification: z.string(),
    size: z.number().int(),
    subject: z.string().nullable().describe('the digest this manifest refers to (signatures, SBOMs, attestations)'),
    configDigest: z.string().nullable(),
    platforms: z.array(z.string()).describe("an index's entries' platforms, or the platforms an image is listed under"),
    referrersHref: z.string(),
    createdAt: Timestamp,
  })
  .meta({ id: 'Manifest' });

export const Blob = z
  .object({
    digest: z.string(),
    size: z.number().int(),
    mediaType: z.string().nullable(),
    stored: z.boolean().describe('false for on-demand blobs not fetched yet'),
    createdAt: Timestamp,
  })
  .meta({ id: 'Blob' });

export const Tag = z
  .object({
    name: z.string(),
    manifest: z.string().describe('the digest the tag points at'),
    repository: Id,
    versionAdded: z.number().int(),
    versionRemoved: z.number().int().nullable(),
  })
  .meta({ id: 'Tag' });
