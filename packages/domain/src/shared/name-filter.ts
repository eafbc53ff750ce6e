/** Filters on `name` every named resource's list takes: exact, or contained in any case. */
export interface NameFilter {
  name?: string;
  name__contains?: string;
}

/** A NameFilter as a Prisma `where` part; Prisma skips the undefined parts. */
export function nameWhere({ name, name__contains }: NameFilter) {
  if (name === undefined && name__contains === undefined) return {};
  const mode = name__contains === undefined ? undefined : ('insensitive' as const);
  return { name: { equals: name, contains: name__contains, mode } };
}
