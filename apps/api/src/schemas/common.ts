import { z } from 'zod';
import { ERROR_STATUS } from '../errors/api-error.ts';


export const Id = z.uuid();

/** PostgreSQL text cannot hold NUL; refusing it here keeps such input a 400, not a 500. */
export const text = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => !s.includes('\0'), 'must not contain NUL characters');

/** Resource names: what users type in scripts; no control characters, no surrounding spaces. */
export const Name = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[^\p{Cc}\s](?:[^\p{Cc}]*[^\p{Cc}\s])?$/u, 'must not contain control characters or start or end with spaces');

export const Timestamp = z.iso.datetime();

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

/** PATCH bodies: every field optional and without its default, so an absent field stays as it is. */
type Unwrapped<S> = S extends z.ZodDefault<infer Inner> ? Inner : S;
export function patchOf<T extends z.ZodRawShape>(shape: T) {
  const partial: Record<string, z.ZodType> = {};
  for (const [key, schema] of Object.entries(shape)) {
    const inner = (schema instanceof z.ZodDefault ? schema.unwrap() : schema) as z.ZodType;
    partial[key] = inner.optional();
  }
  return z.strictObject(partial as { [K in keyof T]: z.ZodOptional<Unwrapped<T[K]> & z.ZodType> });
}

/** Filters on `name` shared by every list; Prisma skips the undefined parts. */
export function nameWhere({ name, name__contains }: Pick<ListQuery, 'name' | 'name__contains'>) {
  if (name === undefined && name__contains === undefined) return {};
  const mode = name__contains === undefined ? undefined : ('insensitive' as const);
  return { name: { equals: name, contains: name__contains, mode } };
}
