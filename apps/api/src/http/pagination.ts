import type { Page as Slice } from '@cistern/domain';
import type { Request } from 'express';
import type { ListQuery } from '../schemas/common.ts';

export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

/** A slice of a list as a page of shaped results, with links that keep every other query parameter as given. */
export function toPage<Row, T>(req: Request, query: Pick<ListQuery, 'limit' | 'offset'>, { count, rows }: Slice<Row>, shape: (row: Row) => T): Page<T> {
  const link = (offset: number) => {
    const params = new URLSearchParams(req.originalUrl.split('?')[1] ?? '');
    params.set('offset', String(offset));
    params.set('limit', String(query.limit));
    return `${req.baseUrl}${req.path}?${params.toString()}`;
  };
  const { limit, offset } = query;
  return {
    count,
    next: offset + limit < count ? link(offset + limit) : null,
    previous: offset > 0 ? link(Math.max(0, offset - limit)) : null,
    results: rows.map(shape),
  };
}
