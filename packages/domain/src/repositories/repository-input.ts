import { isRepositoryName } from '@cistern/oci';
import { z } from 'zod';
import { Id, Name, patchOf, text } from '../shared/fields.ts';

/** The writable fields of a repository; their defaults apply on create and replace, never on a partial update. */
export const repositoryShape = {
  name: Name,
  description: text(4096).nullable().default(null),
  remote: Id.nullable().default(null).describe('the default remote of syncs'),
  upstreamName: text(255)
    .refine(isRepositoryName, 'must be an OCI repository name (lowercase components separated by /)')
    .nullable()
    .default(null)
    .describe(
      "the upstream repository a sync of it mirrors, before its remote's upstreamName: needed to sync from a remote of many upstream repositories (on Docker Hub a one-segment name gets library/)",
    ),
  retainVersions: z.number().int().min(1).max(1_000_000).nullable().default(null).describe('null keeps every version'),
};

/** A whole repository. */
export const RepositoryInput = z.strictObject(repositoryShape);
export type RepositoryInput = z.output<typeof RepositoryInput>;

/** A partial update: the given fields replace the stored ones. */
export const RepositoryPatch = patchOf(repositoryShape);
export type RepositoryPatch = z.output<typeof RepositoryPatch>;

/** What a sync of a repository is asked for. */
export const SyncRequest = z.strictObject({
  remote: Id.optional().describe("defaults to the repository's remote"),
  mirror: z.boolean().default(false).describe('true: the new version is exactly upstream; false: additive'),
  dryRun: z
    .boolean()
    .default(false)
    .describe(
      "true: plan only. The task lists, filters and HEADs tags and fetches the manifests it does not know, decides as a sync would, and stores nothing: no blob is downloaded and no version written. Its result counts what a sync would do; the plan's entries are paged at the result's `plan`. Never deduplicated with a real sync",
    ),
});
export type SyncRequest = z.output<typeof SyncRequest>;
