import { repositoryShape, VersionNumber } from '@cistern/domain';
import { z } from 'zod';
import { Bytes, Id, ListQuery, Timestamp } from './common.ts';

const RepositoryUsage = z.object({
  storedBytes: Bytes.describe(
    "bytes of the distinct stored blobs the manifests of any of the repository's versions reference; a blob shared by several manifests counts once",
  ),
  exclusiveBytes: Bytes.describe("of storedBytes, the bytes no other repository's versions reference: what deleting it and cleaning up orphans frees"),
});

export const Repository = z
  .object({
    id: Id,
    href: z.string(),
    ...repositoryShape,
    pullThrough: Id.nullable().describe(
      'read-only: the pull-through distribution whose cache this repository is (created by its first pull of upstreamName); null for any other, and once that distribution is deleted',
    ),
    latestVersion: z.number().int(),
    latestVersionHref: z.string(),
    versionsHref: z.string(),
    usage: RepositoryUsage.optional().describe(
      'what its content occupies in the blob store; in the single-repository view (GET /repositories/{id}) only, too costly to compute for every row of the list',
    ),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: 'Repository' });

export const RepositoryListQuery = ListQuery.extend({
  remote: Id.optional(),
  pullThrough: Id.optional().describe('the cache repositories of this pull-through distribution'),
});

const Counts = z.object({ manifests: z.number().int(), tags: z.number().int(), blobs: z.number().int() });

export const RepositoryVersion = z
  .object({
    id: Id,
    href: z.string(),
    repository: Id,
    number: z.number().int(),
    baseVersion: z.number().int().nullable(),
    createdAt: Timestamp,
    content: z.object({ added: Counts, removed: Counts, present: Counts }).optional().describe('counts by kind; in the single-version view only'),
  })
  .meta({ id: 'RepositoryVersion' });

/** A version number in a path or query: digits only (a coerced number would read as nullable, and so not required, in the document). */
export const VersionNumberText = z
  .string()
  .regex(/^\d{1,10}$/, 'must be a version number (0, 1, 2, …)')
  .transform(Number)
  .pipe(VersionNumber);

export const VersionParams = z.strictObject({ id: Id, number: VersionNumberText });
