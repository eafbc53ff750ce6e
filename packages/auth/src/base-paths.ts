import { isRepositoryName } from '@cistern/oci';

/** At most this many base paths per token: a pull matches its name against each. */
export const MAX_TOKEN_BASE_PATHS = 100;

/** What a token base path is, as an error message says it. */
export const BASE_PATH_RULE = 'must be a repository name (that name only) or a prefix <name>/* (every name below <name>/)';

/** Whether `entry` is a token base path: a repository name, or `<name>/*` (see basePathReaches). */
export function isBasePath(entry: string): boolean {
  return isRepositoryName(entry.endsWith('/*') ? entry.slice(0, -2) : entry);
}
