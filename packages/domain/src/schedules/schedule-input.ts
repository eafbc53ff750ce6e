import { orphanCleanupParamsSchema, orphanCleanupTask } from '@cistern/storage-lifecycle';
import { syncTask } from '@cistern/sync';
import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { Id, Name, patchOf, text } from '../shared/fields.ts';

const Timezone = text(64).refine((tz) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'must be an IANA time zone, e.g. UTC or Europe/Berlin');

/** Standard 5 fields, or 6 with seconds first: what BullMQ's job schedulers run. */
const Cron = text(200).refine((cron) => [5, 6].includes(cron.trim().split(/\s+/).length), 'must have 5 fields (or 6 with seconds)');

/** What a schedule starts: the name of a task kind. */
export const ScheduleKind = z.enum([syncTask.name, orphanCleanupTask.name]);
export type ScheduleKind = z.output<typeof ScheduleKind>;

/** The params a schedule of a kind other than sync gives each task it starts. */
export const ScheduleParams = orphanCleanupParamsSchema;

/** The writable fields of a schedule; their defaults apply on create and replace, never on a partial update. */
export const scheduleShape = {
  name: Name,
  cron: Cron.describe('e.g. "0 3 * * *"; 6 fields put seconds first'),
  timezone: Timezone.default('UTC'),
  repository: Id,
  remote: Id.nullable().default(null).describe("null syncs from the repository's remote"),
  mirror: z.boolean().default(false),
  enabled: z.boolean().default(true),
};

/** The next run after `from`, or throws if the expression is invalid in that zone. */
export function nextRun(cron: string, timezone: string, from = new Date()): Date {
  return CronExpressionParser.parse(cron, { tz: timezone, currentDate: from }).next().toDate();
}

/** A whole schedule: its cron expression must run in its time zone. */
export const ScheduleInput = z.strictObject(scheduleShape).superRefine((s, ctx) => {
  try {
    nextRun(s.cron, s.timezone);
  } catch (error) {
    ctx.addIssue({ code: 'custom', path: ['cron'], message: `invalid cron expression: ${(error as Error).message}` });
  }
});
export type ScheduleInput = z.output<typeof ScheduleInput>;

/** A partial update: the given fields replace the stored ones. */
export const SchedulePatch = patchOf(scheduleShape);
export type SchedulePatch = z.output<typeof SchedulePatch>;
