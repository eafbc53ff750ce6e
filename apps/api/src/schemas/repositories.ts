import { z } from 'zod';
import { Id, ListQuery, Name, patchOf, text, Timestamp } from './common.ts';
import { Task } from './tasks.ts';

export const repositoryShape = {
  name: Name,
  description: text(4096).nullable().default(null),
  remote: Id.nullable().default(null).describe('the default remote of syncs'),
  retainVersions: z.number().int().min(1).max(1_000_000).nullable().default(null).describe('null keeps every version'),
};

export const RepositoryInput = z.strictObject(repositoryShape);
export const RepositoryPatch = patchOf(repositoryShape);

export const Repository = z
  .object({
    id: Id,
    href: z.string(),
    ...repositoryShape,
    latestVersion: z.number().int(),
    latestVersionHref: z.string(),
    versionsHref: z.string(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: 'Repository' });

export const RepositoryListQuery = ListQuery.extend({ remote: Id.optional() });

export const SyncRequest = z.strictObject({
  remote: Id.optional().describe("defaults to the repository's remote"),
  mirror: z.boolean().default(false).describe('true: the new version is exactly upstream; false: additive'),
});

export const SyncAccepted = z.object({ task: Task }).meta({ id: 'SyncAccepted' });

const Counts = z.object({ manifests: z.number().int(), tags: z.number().int(), blobs: z.number().int() });

export const RepositoryVersion = z
  .object({
    id: Id,
    href: z.string(),
    repository: Id,
    number: z.number().int(),
    baseVersion: z.number().int().nullable(),
    createdAt: Timestamp,
    content: z
      .object({ added: Counts, removed: Counts, present: Counts })
      .optional()
      .describe('counts by kind; in the single-version view only'),
  })
  .meta({ id: 'RepositoryVersion' });

export const VersionParams = z.strictObject({ id: Id, number: z.coerce.number().int().min(0).max(2_147_483_647) });
