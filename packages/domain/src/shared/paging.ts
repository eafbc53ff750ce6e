/** Which slice of a list to read: `limit` rows after skipping `offset`. */
export interface PageRequest {
  limit: number;
  offset: number;
}

/** One slice of a list, and how many rows match over all slices. */
export interface Page<T> {
  count: number;
  rows: T[];
}

/** A PageRequest as Prisma's `take` and `skip`. */
export const pageArgs = (page: PageRequest) => ({ take: page.limit, skip: page.offset });

/** Runs the count and the slice of one list together. */
export async function listPage<T>(count: PromiseLike<number>, rows: PromiseLike<T[]>): Promise<Page<T>> {
  const [total, slice] = await Promise.all([count, rows]);
  return { count: total, rows: slice };
}
