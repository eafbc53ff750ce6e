import type { ApiContext } from '../context.ts';
import type { RouteTable } from '../http/route-table.ts';
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

/** Every route group of /api/v1, registered by name in one place. */
export function registerRoutes(routes: RouteTable, ctx: ApiContext): void {
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
}
