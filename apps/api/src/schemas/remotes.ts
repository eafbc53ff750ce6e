import { remoteShape } from '@cistern/domain';
import { z } from 'zod';
import { Id, ListQuery, text, Timestamp } from './common.ts';

export const Remote = z
  .object({
    id: Id,
    href: z.string(),
    ...z.object(remoteShape).omit({ password: true, proxyPassword: true }).shape,
    passwordSet: z.boolean().describe('whether a password is stored; the password itself is never returned'),
    proxyPasswordSet: z.boolean().describe('whether a proxyPassword is stored; it is never returned'),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: 'Remote' });

export const RemoteListQuery = ListQuery.extend({
  policy: z.enum(['immediate', 'on_demand', 'streamed']).optional(),
  url: text(2048).optional(),
});
