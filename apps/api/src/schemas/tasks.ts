import { taskKinds } from '@cistern/domain';
import { STORAGE_RESOURCE } from '@cistern/storage-lifecycle';
import { Report } from '@cistern/sync';
import { z } from 'zod';
import { Id, PageQuery, Timestamp } from './common.ts';
import { SyncPlanSummary } from './sync-plan.ts';

export const TaskStateEnum = z.enum(['waiting', 'running', 'completed', 'failed', 'canceling', 'canceled']);

const ProgressReport = z.object({
  // Read from the sync's own table of codes, so the document cannot name codes it no longer reports.
  code: z.string().describe(`what the report counts; a sync reports ${Object.values(Report).join(', ')}`),
  message: z.string(),
  done: z.number(),
  total: z.number().nullable(),
  state: z.enum(['running', 'completed', 'failed', 'skipped', 'canceled']).describe('never running once the task has ended'),
  items: z.array(z.object({ name: z.string(), reason: z.string() })).optional(),
});

export const Task = z
  .object({
    id: Id,
    href: z.string(),
    kind: z.string(),
    state: TaskStateEnum,
    resource: z.string().nullable().describe('what the task works on, e.g. repository:<id>'),
    params: z.record(z.string(), z.unknown()),
    progressReports: z.array(ProgressReport),
    error: z.object({ code: z.string(), message: z.string(), detail: z.unknown().optional() }).nullable(),
    warnings: z
      .array(z.object({ code: z.string(), message: z.string() }))
      .describe(
        'what a task that completed wants its reader to know. Sync: NOTHING_SELECTED (the filters selected no tag), NOTHING_MIRRORED (none of the selected tags could be mirrored), CONTENT_FAILED (something could not be brought in and was kept as it was), REFERRERS_UNLISTED (some referrers could not be listed)',
      ),
    createdResources: z.array(z.string()).describe('hrefs of what the task made, e.g. the new repository version'),
    result: z
      .union([SyncPlanSummary, z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(z.string())]))])
      .nullable()
      .describe(
        'the outcome in figures of a task that completed, else null. sync with dryRun: SyncPlanSummary (what a sync would do; entries paged at `plan`); orphan-cleanup: {dryRun, protectionTimeMinutes, manifests, blobs, remoteArtifacts, bytesFreed, temporaryFiles, temporaryBytes} (what it removed, or with dryRun would remove); reclaim-space: {repositories, keepVersions, blobs, bytesFreed} (the blob files it dropped)',
      ),
    worker: z.string().nullable(),
    createdAt: Timestamp,
    startedAt: Timestamp.nullable(),
    finishedAt: Timestamp.nullable(),
    updatedAt: Timestamp,
  })
  .meta({ id: 'Task' });

/** The answer of every request that queues a task: 202 and the task to follow. */
export const TaskAccepted = z.object({ task: Task }).meta({ id: 'TaskAccepted' });

/** What tasks work on: the whole store, or one repository. */
const TaskResource = z
  .string()
  .regex(
    new RegExp(`^(?:${STORAGE_RESOURCE}|repository:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$`),
    `must be ${STORAGE_RESOURCE} or repository:<id>`,
  );

export const TaskListQuery = PageQuery.extend({
  state: TaskStateEnum.optional(),
  kind: z.enum(taskKinds.map((kind) => kind.name)).optional(),
  resource: TaskResource.optional(),
  repository: Id.optional().describe('shorthand for resource=repository:<id>'),
});
