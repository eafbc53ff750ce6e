import { scheduleShape } from '@cistern/domain';
import { z } from 'zod';
import { Id, ListQuery, QueryBoolean, Timestamp } from './common.ts';

export const Schedule = z
  .object({
    id: Id,
    href: z.string(),
    ...scheduleShape,
    nextRunAt: Timestamp.nullable().describe('null while disabled'),
    lastTask: Id.nullable(),
    lastTaskHref: z.string().nullable(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: 'Schedule' });

export const ScheduleListQuery = ListQuery.extend({ repository: Id.optional(), enabled: QueryBoolean.optional() });
