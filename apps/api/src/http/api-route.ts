import { API_PREFIX } from '../context.ts';
import type { RegisteredRoutes } from '../routes/index.ts';

/**
 * The `route` of an API request's log line and metric labels: the path
 * template of the route that answers it (`/repositories/{id}/sync`), or
 * `other` outside /api/v1 or where no route's path matches. Mounted paths
 * match as express matches them: case-insensitive, at a segment boundary.
 */
export function apiRouteOf(routes: Pick<RegisteredRoutes, 'templateOf'>, method: string, path: string): string {
  const head = path.slice(0, API_PREFIX.length).toLowerCase();
  const rest = path.slice(API_PREFIX.length);
  if (head !== API_PREFIX || (rest !== '' && !rest.startsWith('/'))) return 'other';
  return routes.templateOf(method, rest || '/') ?? 'other';
}
