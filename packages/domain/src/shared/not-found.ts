import { CisternError } from '@cistern/errors';

/** NOT_FOUND: `<what> <id> does not exist`. */
export const notFound = (what: string, id: string) => new CisternError('NOT_FOUND', `${what} ${id} does not exist`);

/** The row a lookup found; NOT_FOUND (`<what> <id> does not exist`) when it found none. */
export function found<T>(row: T | null, what: string, id: string): T {
  if (row === null) throw notFound(what, id);
  return row;
}
