import { distributionShape } from '@cistern/domain';
import { z } from 'zod';
import { Id, ListQuery, QueryBoolean, text, Timestamp } from './common.ts';

export const Distribution = z
  .object({
    id: Id,
    href: z.string(),
    ...distributionShape,
    // What it serves, always shown: a repository (and version) or, pull-through, a remote; the other is null.
    repository: Id.nullable().describe('the repository served (its latest version unless repositoryVersion pins one); null for a pull-through distribution'),
    remote: Id.nullable().describe('pull-through: the remote served; null for a distribution of a repository'),
    registryPath: z.string().describe('PUBLIC_URL host + basePath, what clients pull from'),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: 'Distribution' });

export const DistributionListQuery = ListQuery.extend({
  basePath: text(255).optional(),
  repository: Id.optional(),
  remote: Id.optional().describe('pull-through distributions of this remote'),
  private: QueryBoolean.optional(),
});
