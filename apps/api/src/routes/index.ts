import { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Router } from 'express';
import type { ApiContext } from '../context.ts';
import { RouteTable } from '../http/route-table.ts';
import { buildOpenApiDocument, type OpenApiDocument } from '../openapi/document.ts';
import { contentActionRoutes } from './content-actions.ts';
import { contentRoutes } from './content.ts';
import { distributionRoutes } from './distributions.ts';
import { remoteRoutes } from './remotes.ts';
import { repositoryRoutes } from './repositories.ts';
import { scheduleRoutes } from './schedules.ts';
import { settingsRoutes } from './settings.ts';
import { storageTaskRoutes } from './storage-tasks.ts';
import { storageRoutes } from './storage.ts';
import { taskRoutes } from './tasks.ts';
import { tokenRoutes } from './tokens.ts';
import { versionRoutes } from './versions.ts';

export interface RegisteredRoutes {
  /** The OpenAPI document of every route. */
  document: OpenApiDocument;
  /** The path template of the route that answers `method` on `path` (relative to /api/v1); undefined for none. */
  templateOf(method: string, path: string): string | undefined;
}

/**
 * Registers every route group of /api/v1 on `router`, by name in one place,
 * then the 405 of other methods.
 */
export function registerRoutes(router: Router, ctx: ApiContext): RegisteredRoutes {
  const registry = new OpenAPIRegistry();
  const routes = new RouteTable(router, registry);
  for (const group of [
    remoteRoutes,
    repositoryRoutes,
    contentActionRoutes,
    versionRoutes,
    distributionRoutes,
    tokenRoutes,
    taskRoutes,
    scheduleRoutes,
    contentRoutes,
    settingsRoutes,
    storageTaskRoutes,
    storageRoutes,
  ]) {
    group(routes, ctx);
  }
  routes.refuseOtherMethods();
  return { document: buildOpenApiDocument(registry), templateOf: (method, path) => routes.templateOf(method, path) };
}
