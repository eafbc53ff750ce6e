import { scheduleShape, ScheduleKind, ScheduleParams } from '@cistern/domain';
import { z } from 'zod';
import { Id, ListQuery, QueryBoolean, Timestamp } from './common.ts';

/** Every kind's fields on every schedule: a field another kind has is null. */
export const Schedule = z
  .object({
    id: Id,
    href: z.string(),
    kind: ScheduleKind.describe('what each tick starts: a sync of the repository, or an orphan cleanup of the whole store'),
    ...scheduleShape,
    repository: Id.nullable().describe('the repository a sync schedule syncs; null for other kinds'),
    remote: Id.nullable().describe("a sync schedule's remote, null for the repository's own; null for other kinds"),
    mirror: z.boolean().nullable().describe('whether a sync schedule mirrors; null for other kinds'),
    params: ScheduleParams.nullable().describe('what each task the schedule starts is asked for; null for sync, whose are repository, remote and mirror'),
    nextRunAt: Timestamp.nullable().describe('null while disabled'),
    lastTask: Id.nullable(),
    lastTaskHref: z.string().nullable(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: 'Schedule' });

export const ScheduleListQuery = ListQuery.extend({ kind: ScheduleKind.optional(), repository: Id.optional(), enabled: QueryBoolean.optional() });
