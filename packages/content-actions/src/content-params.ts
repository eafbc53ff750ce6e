import { isDigest, isTag } from '@cistern/oci';
import { z } from 'zod';

const digest = z.string().refine(isDigest, 'must be a sha256 or sha512 digest');
const tag = z.string().refine(isTag, 'must be a valid tag');

// Content actions: each writes one new version of `repositoryId` under its lock.
// The API derives its request bodies from these (the repository comes from the path).

/** `tag`: point `tag` at a manifest of the latest version. */
export const tagParamsSchema = z.object({ repositoryId: z.uuid(), tag, digest }).strict();
/** `untag`: remove tags; their manifests stay. */
export const untagParamsSchema = z.object({ repositoryId: z.uuid(), tags: z.array(tag).min(1) }).strict();
/** `remove`: remove manifests (with their tags, index children and referrers) or tags. */
export const removeParamsSchema = z.object({ repositoryId: z.uuid(), digests: z.array(digest).default([]), tags: z.array(tag).default([]) }).strict();
/** `copy`: copy tags or digests, with what they reference, from another repository version. */
export const copyParamsSchema = z
  .object({
    repositoryId: z.uuid(),
    sourceRepositoryId: z.uuid(),
    /** Defaults to the source's latest version. */
    sourceVersion: z.number().int().min(0).optional(),
    digests: z.array(digest).default([]),
    tags: z.array(tag).default([]),
  })
  .strict();
