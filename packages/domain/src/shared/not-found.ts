import { CisternError } from '@cistern/errors';

/** NOT_FOUND: `<what> <id> does not exist`. */
export const notFound = (what: string, id: string) => new CisternError('NOT_FOUND', `${what} ${id} does not exist`);
