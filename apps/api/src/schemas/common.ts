import { Id, Name, text } from '@cistern/domain';
import { z } from 'zod';
import { ERROR_STATUS } from '../errors/api-error.ts';

export { Id, Name, text };

export const Timestamp = z.iso.datetime();

/** A size in bytes. */
export const Bytes = z.number().int().min(0);

export const IdParams = z.strictObject({ id: Id });

/** `true`/`false` in a query string. */
export const QueryBoolean = z.enum(['true', 'false']).transform((v) => v === 'true');

export const PageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).max(2_147_483_647).default(0),
});

/** Paging and the name filters every named resource has; each extends it with its own filters. */
export const ListQuery = PageQuery.extend({
  name: text(255).optional(),
  name__contains: text(255).optional(),
});
export type ListQuery = z.infer<typeof ListQuery>;

export function page<T extends z.ZodType>(item: T) {
  return z.object({
    count: z.number().int().describe('how many results match, over all pages'),
    next: z.string().nullable(),
    previous: z.string().nullable(),
    results: z.array(item),
  });
}

export const ErrorBody = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(ERROR_STATUS) as [keyof typeof ERROR_STATUS, ...(keyof typeof ERROR_STATUS)[]]),
      message: z.string(),
      details: z.array(z.object({ path: z.string().optional(), code: z.string().optional(), message: z.string() })),
    }),
  })
  .meta({ id: 'Error' });
