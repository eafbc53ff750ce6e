import { distributionShape } from '@cistern/domain';
import { z } from 'zod';
import { Id, ListQuery, QueryBoolean, text, Timestamp } from './common.ts';

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
  basePath: text(255).optional(),
  repository: Id.optional(),
  private: QueryBoolean.optional(),
});
