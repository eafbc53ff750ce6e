// Field schemas every resource's input is made of.
import { z } from 'zod';

/** Resources are named by UUIDs. */
export const Id = z.uuid();

/** A repository version's number: 0 is where every repository starts (PostgreSQL int). */
export const VersionNumber = z.number().int().min(0).max(2_147_483_647);

/** PostgreSQL text cannot hold NUL; refusing it here keeps such input a 400, not a 500. */
export const text = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => !s.includes('\0'), 'must not contain NUL characters');

/** No control characters, no surrounding spaces; `u` makes `\p{Cc}` a Unicode class (OpenAPI patterns are read with it, as Ajv does). */
const NAME_PATTERN = /^[^\p{Cc}\s](?:[^\p{Cc}]*[^\p{Cc}\s])?$/u;

/** Resource names: what users type in scripts; no control characters, no surrounding spaces. */
export const Name = z
  .string()
  .min(1)
  .max(255)
  .regex(NAME_PATTERN, 'must not contain control characters or start or end with spaces')
  // zod-to-openapi writes a pattern with its flags ("…$/u"): the document gets the source alone.
  .meta({ pattern: NAME_PATTERN.source });

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
