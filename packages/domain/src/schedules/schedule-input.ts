import { orphanCleanupParamsSchema, orphanCleanupTask } from '@cistern/storage-lifecycle';
import { syncTask } from '@cistern/sync';
import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { Id, Name, patchOf, text } from '../shared/fields.ts';
import { cronProblem } from './cron-problem.ts';

const Timezone = text(64).refine((tz) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'must be an IANA time zone, e.g. UTC or Europe/Berlin');

/** Standard 5 fields, or 6 with seconds first: what BullMQ's job schedulers run. */
const Cron = text(200).superRefine((cron, ctx) => {
  const problem = cronProblem(cron);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** What a schedule starts: the name of a task kind. */
export const ScheduleKind = z.enum([syncTask.name, orphanCleanupTask.name]);
export type ScheduleKind = z.output<typeof ScheduleKind>;

/** The params a schedule of a kind other than sync gives each task it starts. */
export const ScheduleParams = orphanCleanupParamsSchema;

/** The writable fields every schedule has, whatever its kind; their defaults apply on create and replace, never on a partial update. */
export const scheduleShape = {
  name: Name,
  cron: Cron.describe('e.g. "0 3 * * *"; 6 fields put seconds first'),
  timezone: Timezone.default('UTC'),
  enabled: z.boolean().default(true),
};

/** A field another kind of schedule has: absent or null here, and the error says so. */
const notFor = (field: string, schedule: string) => z.null({ error: `${field} is not allowed for ${schedule} schedule` }).optional();

/** The next run after `from`, or throws if the expression is invalid in that zone. */
export function nextRun(cron: string, timezone: string, from = new Date()): Date {
  return CronExpressionParser.parse(cron, { tz: timezone, currentDate: from }).next().toDate();
}

/** A sync schedule: each tick syncs its repository, as a POST of its sync would. */
const SyncSchedule = z.strictObject({
  kind: z.literal(syncTask.name).default(syncTask.name).describe('a body without kind is a sync schedule'),
  ...scheduleShape,
  repository: z.uuid({ error: (issue) => (issue.input == null ? 'repository is required for a sync schedule' : undefined) }),
  remote: Id.nullable().default(null).describe("null syncs from the repository's remote"),
  mirror: z.boolean().default(false),
  params: notFor('params', 'a sync'),
});

/** An orphan-cleanup schedule: each tick cleans the whole store up with `params`. */
const OrphanCleanupSchedule = z.strictObject({
  kind: z.literal(orphanCleanupTask.name),
  ...scheduleShape,
  repository: notFor('repository', 'an orphan-cleanup'),
  remote: notFor('remote', 'an orphan-cleanup'),
  mirror: notFor('mirror', 'an orphan-cleanup'),
  params: orphanCleanupParamsSchema.prefault({}).describe('what each cleanup it starts is asked for, as POST /orphans/cleanup takes it'),
});

/**
 * A whole schedule, one of its kinds: a body without `kind` is a sync
 * schedule (as every schedule was before kinds). A field of another kind is
 * refused by name, and an unknown kind lists the known ones.
 */
export const ScheduleInput = z
  .discriminatedUnion('kind', [SyncSchedule, OrphanCleanupSchedule], {
    error: (issue) => (issue.code === 'invalid_union' ? `kind must be one of: ${ScheduleKind.options.join(', ')}` : undefined),
  })
  .meta({ id: 'ScheduleRequest' });
export type ScheduleInput = z.output<typeof ScheduleInput>;

/**
 * A partial update: the given fields replace the stored ones (`params` as a
 * whole), and the result must be a whole schedule of its kind. A new `kind`
 * drops the fields of the old one.
 */
export const SchedulePatch = patchOf({
  kind: ScheduleKind,
  ...scheduleShape,
  repository: Id.nullable(),
  remote: Id.nullable(),
  mirror: z.boolean().nullable(),
  params: ScheduleParams.nullable(),
});
export type SchedulePatch = z.output<typeof SchedulePatch>;
