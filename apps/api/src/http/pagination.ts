import type { Page as Slice } from '@cistern/domain';
import type { Request } from 'express';
import type { ListQuery } from '../schemas/common.ts';

export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

/** This request's URL with `set` replacing some query parameters and every other one kept as given. */
export function pageLink(req: Request, set: Record<string, string>): string {
  const params = new URLSearchParams(req.originalUrl.split('?')[1] ?? '');
  for (const [name, value] of Object.entries(set)) params.set(name, value);
  return `${req.baseUrl}${req.path}?${params.toString()}`;
}

/** A slice of a list as a page of shaped results, with links that keep every other query parameter as given. */
export function toPage<Row, T>(req: Request, query: Pick<ListQuery, 'limit' | 'offset'>, { count, rows }: Slice<Row>, shape: (row: Row) => T): Page<T> {
  const { limit, offset } = query;
  const link = (at: number) => pageLink(req, { offset: String(at), limit: String(limit) });
  return {
    count,
    next: offset + limit < count ? link(offset + limit) : null,
    previous: offset > 0 ? link(Math.max(0, offset - limit)) : null,
    results: rows.map(shape),
  };
}
