import { CisternError } from '@cistern/errors';

type Located = { path: string };
const namesField = (item: unknown): item is Located => typeof item === 'object' && item !== null && typeof (item as Partial<Located>).path === 'string';

/**
 * Domain services name the fields of the input they were given (`remote`);
 * the API answers with where that input came from (`body.remote`). Returns a
 * CisternError whose detail names fields with each path under `location`;
 * anything else as it is.
 */
export function locateInputError(error: unknown, location: 'body' | 'query'): unknown {
  if (!(error instanceof CisternError) || !Array.isArray(error.detail) || !error.detail.some(namesField)) return error;
  const detail = error.detail.map((item: unknown) => (namesField(item) ? { ...item, path: `${location}.${item.path}` } : item));
  return new CisternError(error.code, error.message, { detail, retryable: error.retryable, cause: error });
}
