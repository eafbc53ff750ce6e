import { z } from 'zod';

/** The payload of every BullMQ job: the Task row is the source of truth, the job only points at it. */
export const taskJobDataSchema = z.object({ taskId: z.uuid() }).strict();
export type TaskJobData = z.infer<typeof taskJobDataSchema>;

export const syncParamsSchema = z
  .object({ repositoryId: z.uuid(), remoteId: z.uuid(), mirror: z.boolean() })
  .strict();
export type SyncParams = z.infer<typeof syncParamsSchema>;

/** Each task kind and the shape of its params. Later kinds add a line here. */
export const taskParamsSchemas = {
  sync: syncParamsSchema,
} as const;
export type TaskKind = keyof typeof taskParamsSchemas;
export type TaskParams<K extends TaskKind> = z.infer<(typeof taskParamsSchemas)[K]>;

/** The lock and deduplication key of a task that changes a repository. */
export function repositoryResource(repositoryId: string): string {
  return `repository:${repositoryId}`;
}
