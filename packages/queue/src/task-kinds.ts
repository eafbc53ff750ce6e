import { isDigest, isTag } from '@cistern/oci';
import { z } from 'zod';

/** The payload of every BullMQ job: the Task row is the source of truth, the job only points at it. */
export const taskJobDataSchema = z.object({ taskId: z.uuid() }).strict();
export type TaskJobData = z.infer<typeof taskJobDataSchema>;

export const syncParamsSchema = z
  .object({ repositoryId: z.uuid(), remoteId: z.uuid(), mirror: z.boolean() })
  .strict();
export type SyncParams = z.infer<typeof syncParamsSchema>;

const digest = z.string().refine(isDigest, 'must be a sha256 or sha512 digest');
const tag = z.string().refine(isTag, 'must be a valid tag');

/** Content actions: each writes one new version of `repositoryId` under its lock. */
export const tagParamsSchema = z.object({ repositoryId: z.uuid(), tag, digest }).strict();
export const untagParamsSchema = z.object({ repositoryId: z.uuid(), tags: z.array(tag).min(1) }).strict();
export const removeParamsSchema = z
  .object({ repositoryId: z.uuid(), digests: z.array(digest).default([]), tags: z.array(tag).default([]) })
  .strict();
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

/** Each task kind and the shape of its params. Later kinds add a line here. */
export const taskParamsSchemas = {
  sync: syncParamsSchema,
  tag: tagParamsSchema,
  untag: untagParamsSchema,
  remove: removeParamsSchema,
  copy: copyParamsSchema,
} as const;
export type TaskKind = keyof typeof taskParamsSchemas;
export type TaskParams<K extends TaskKind> = z.infer<(typeof taskParamsSchemas)[K]>;

/** The lock and deduplication key of a task that changes a repository. */
export function repositoryResource(repositoryId: string): string {
  return `repository:${repositoryId}`;
}

/** What a task that wrote a version names in `createdResources`. */
export function repositoryVersionHref(repositoryId: string, version: number): string {
  return `/api/v1/repositories/${repositoryId}/versions/${version}`;
}
