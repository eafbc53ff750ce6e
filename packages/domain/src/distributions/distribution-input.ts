import { isRepositoryName } from '@cistern/oci';
import { z } from 'zod';
import { Id, Name, patchOf } from '../shared/fields.ts';

const BasePath = z.string().min(1).max(255).refine(isRepositoryName, 'must be an OCI repository name (lowercase components separated by /)');

/** The writable fields of a distribution; their defaults apply on create and replace, never on a partial update. */
export const distributionShape = {
  name: Name,
  basePath: BasePath.describe('the registry serves /v2/<basePath>/...'),
  repository: Id.nullable().default(null).describe("serve this repository's latest version"),
  repositoryVersion: Id.nullable().default(null).describe('or serve this version (pinned)'),
  private: z.boolean().default(false).describe('pulling needs a pull token'),
};

/** A distribution serves exactly one of: a repository's latest version, or one pinned version. */
const exactlyOneSource = (d: { repository: string | null; repositoryVersion: string | null }, ctx: z.RefinementCtx) => {
  if ((d.repository === null) === (d.repositoryVersion === null)) {
    ctx.addIssue({ code: 'custom', path: ['repository'], message: 'give exactly one of repository and repositoryVersion' });
  }
};

export const DistributionInput = z.strictObject(distributionShape).superRefine(exactlyOneSource);
export type DistributionInput = z.output<typeof DistributionInput>;

/** A partial update: switching between repository and repositoryVersion means naming one and nulling the other. */
export const DistributionPatch = patchOf(distributionShape);
export type DistributionPatch = z.output<typeof DistributionPatch>;
