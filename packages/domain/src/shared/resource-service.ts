import type { Page, PageRequest } from './paging.ts';

/**
 * What every resource users name and edit offers: a filtered, paged list
 * ordered by name, one by id (NOT_FOUND when unknown), create, a partial
 * update (the given fields over the stored ones, checked as a whole input:
 * ZodError when they do not make one; giving every field replaces them all),
 * and delete. A taken name is the database's unique violation.
 */
export interface ResourceService<Row, Filter, Input, Patch> {
  list(filter: Filter, page: PageRequest): Promise<Page<Row>>;
  get(id: string): Promise<Row>;
  create(input: Input): Promise<Row>;
  update(id: string, patch: Patch): Promise<Row>;
  delete(id: string): Promise<void>;
}
