import { pingRedis } from '@cistern/queue';
import { apiRequestMetrics, metricsRouter } from '@cistern/metrics';
import { healthRouter, observeRequests } from '@cistern/runtime';
import express, { Router, type Express } from 'express';
import type { Redis } from 'ioredis';
import { adminRouter, type AdminDeps } from './admin/admin-router.ts';
import { API_PREFIX, type ApiContext } from './context.ts';
import { errorMiddleware, notFoundMiddleware } from './errors/error-middleware.ts';
import { apiRouteOf } from './http/api-route.ts';
import { authenticate } from './http/authenticate.ts';
import { decodablePath, jsonBody } from './http/request-input.ts';
import { docsRouter } from './openapi/docs-page.ts';
import { registerRoutes } from './routes/index.ts';

export interface ApiDeps {
  context: ApiContext;
  redis: Redis;
  ping(): Promise<void>;
  /** Bodies larger than this answer 413. */
  bodyLimitBytes?: number;
  /** When set, `/metrics` requires it as a bearer token. */
  metricsToken?: string;
  /** The login page and the queue dashboard under /admin. */
  admin: AdminDeps;
}

export function createApiApp({ context, redis, ping, bodyLimitBytes = 1024 * 1024, metricsToken, admin }: ApiDeps): Express {
  const api = Router();
  const routes = registerRoutes(api, context);
  const app = express();
  app.disable('x-powered-by');
  app.use(
    observeRequests({
      app: 'api',
      logger: context.logger,
      routeOf: (req) => apiRouteOf(routes, req.method, req.path),
      metrics: apiRequestMetrics,
    }),
  );
  app.use(
    healthRouter({
      database: ping,
      redis: () => pingRedis(redis),
    }),
  );
  app.use(metricsRouter({ token: metricsToken }));
  app.use(decodablePath);
  app.get('/openapi.json', (_req, res) => {
    res.json(routes.document);
  });
  app.use(docsRouter());
  app.use(adminRouter(admin));
  app.use(API_PREFIX, authenticate(context.authenticator), jsonBody(bodyLimitBytes), api);
  app.use(notFoundMiddleware);
  app.use(errorMiddleware(context.logger.child({ app: 'api' })));
  return app;
}
