import { isRepositoryName } from '@cistern/oci';
import { z } from 'zod';
import { Id, ListQuery, Name, patchOf, QueryBoolean, Timestamp } from './common.ts';

const BasePath = z
  .string()
  .min(1)
  .max(255)
  .refine(isRepositoryName, 'must be an OCI repository name (lowercase components separated by /)');

export const distributionShape = {
  name: Name,
  basePath: BasePath.describe('the registry serves /v2/<basePath>/...'),
  repository: Id.nullable().default(null).describe("serve this repository's latest version"),
  repositoryVersion: Id.nullable().default(null).describe('or serve this version (pinned)'),
  private: z.boolean().default(false).describe('pulling needs a pull token'),
};

export const exactlyOneSource = (d: { repository: string | null; repositoryVersion: string | null }, ctx: z.RefinementCtx) => {
  if ((d.repository === null) === (d.repositoryVersion === null)) {
    ctx.addIssue({ code: 'custom', path: ['repository'], message: 'give exactly one of repository and repositoryVersion' });
  }
};

export const DistributionInput = z.strictObject(distributionShape).superRefine(exactlyOneSource);
export type DistributionInput = z.output<typeof DistributionInput>;
export const DistributionPatch = patchOf(distributionShape);

export const Distribution = z
  .object({
    id: Id,
    href: z.string(),
    ...distributionShape,
    registryPath: z.string().describe('PUBLIC_URL host + basePath, what clients pull from'),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: 'Distribution' });

export const DistributionListQuery = ListQuery.extend({
  basePath: z.string().max(255).optional(),
  repository: Id.optional(),
  private: QueryBoolean.optional(),
});
