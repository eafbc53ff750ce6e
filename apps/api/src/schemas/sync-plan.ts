import { syncPlanSummarySchema } from '@cistern/sync';
import { z } from 'zod';
import { Bytes, PageQuery } from './common.ts';

/** A sync dry-run's `result`: the counts of its plan, from the sync's own schema. */
export const SyncPlanSummary = syncPlanSummarySchema.meta({ id: 'SyncPlanSummary' });

/** Which entries of a plan to page through. */
export const SyncPlanQuery = PageQuery.extend({
  kind: z
    .enum(['tags', 'manifests', 'blobs'], { error: 'give which part of the plan to list: tags, manifests or blobs' })
    .describe('tags: added, moved, removed; manifests: new, refused, failed; blobs: download, record'),
});

/** The database kind of each `kind` a query names. */
export const PLAN_KINDS = { tags: 'tag', manifests: 'manifest', blobs: 'blob' } as const;

/**
 * One entry of a sync dry-run's plan (`GET /tasks/{id}/plan?kind=`): a tag
 * added, moved or removed, a manifest new, refused or failed, a blob to
 * download or record. What stays as it is is only counted in the summary.
 */
export const SyncPlanEntry = z
  .object({
    change: z
      .enum(['added', 'moved', 'removed', 'new', 'refused', 'failed', 'download', 'record'])
      .describe(
        'tags: added | moved | removed (vs the latest version); manifests: new (fetched and stored) | refused | failed (see reason; those already stored are only counted); blobs: download | record (kept to fetch on first pull)',
      ),
    name: z.string().nullable().describe('the tag, or what led to the manifest (its tag, or index > child)'),
    digest: z.string().nullable(),
    from: z.string().nullable().describe("a moved tag's previous target"),
    reason: z.string().nullable().describe('why a manifest is refused or failed'),
    size: Bytes.nullable().describe("a blob's size"),
  })
  .meta({ id: 'SyncPlanEntry' });
