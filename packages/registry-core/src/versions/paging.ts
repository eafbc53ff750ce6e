import { RegistryError } from '../errors/registry-error.ts';

export interface PageRequest {
  /** Raw `n` query value. */
  n?: string | undefined;
  /** Exclusive lower bound. */
  last?: string | undefined;
}

export interface Page<T> {
  items: T[];
  /** The `last` to ask for the next page with, when there may be more. */
  next: string | undefined;
}

/** A page can never be longer than this, whatever `n` asks for; a partial page carries Link. */
export const MAX_PAGE = 10_000;

/** `n` as the Distribution API takes it: absent = everything (up to MAX_PAGE), 0 = empty, else a non-negative integer. */
export function pageSize(n: string | undefined): number {
  if (n === undefined) return MAX_PAGE;
  if (!/^\d{1,9}$/.test(n)) {
    throw new RegistryError('PAGINATION_NUMBER_INVALID', 'invalid number of results requested', { detail: { n } });
  }
  return Math.min(Number(n), MAX_PAGE);
}

/** One page of lexically sorted keys after `last`. */
export function pageOf<T>(sorted: readonly T[], key: (item: T) => string, request: PageRequest): Page<T> {
  const size = pageSize(request.n);
  const last = request.last;
  let start = 0;
  if (last !== undefined && last !== '') {
    // Binary search for the first key > last.
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (key(sorted[mid] as T) <= last) lo = mid + 1;
      else hi = mid;
    }
    start = lo;
  }
  const items = sorted.slice(start, start + size);
  const more = size > 0 && start + size < sorted.length;
  return { items, next: more ? key(items[items.length - 1] as T) : undefined };
}
