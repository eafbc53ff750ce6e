import { isRepositoryName } from '@cistern/oci';
import { z } from 'zod';
import { Name, patchOf, VersionNumber } from '../shared/fields.ts';

const BasePath = z.string().min(1).max(255).refine(isRepositoryName, 'must be an OCI repository name (lowercase components separated by /)');

/** A missing repository is the one mistake worth its own message: a version number means nothing without it. */
const SourceRepository = z.uuid({
  error: (issue) => (issue.input === undefined ? 'required: the repository to serve (a repositoryVersion is a number within it)' : undefined),
});

/** The writable fields of a distribution; their defaults apply on create and replace, never on a partial update. */
export const distributionShape = {
  name: Name,
  basePath: BasePath.describe('the registry serves /v2/<basePath>/...'),
  repository: SourceRepository.describe(
    'the repository served: its latest version unless repositoryVersion pins one (a PATCH naming it without repositoryVersion follows the latest again)',
  ),
  repositoryVersion: VersionNumber.nullable().default(null).describe('the number of the version of repository to serve (pinned); null follows the latest'),
  private: z.boolean().default(false).describe('pulling needs a pull token'),
};

/** A distribution serves a repository's latest version, or one version of it it pins. */
export const DistributionInput = z.strictObject(distributionShape);
export type DistributionInput = z.output<typeof DistributionInput>;

/** A partial update: the given fields over the stored ones. */
export const DistributionPatch = patchOf(distributionShape);
export type DistributionPatch = z.output<typeof DistributionPatch>;
