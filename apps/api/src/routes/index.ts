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

/**
 * Registers every route group of /api/v1 on `router`, by name in one place,
 * then the 405 of other methods; returns the OpenAPI document of them all.
 */
export function registerRoutes(router: Router, ctx: ApiContext): OpenApiDocument {
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
  return buildOpenApiDocument(registry);
}
