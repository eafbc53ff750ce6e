import { pingRedis } from '@cistern/queue';
import type { Resources } from '@cistern/runtime';
import { metricsRouter, registryRequestMetrics } from '@cistern/metrics';
import { healthRouter, observeRequests } from '@cistern/runtime';
import express, { type Express } from 'express';
import type { Redis } from 'ioredis';
import type { RegistryServices } from './http/registry-services.ts';
import { registryRouteOf } from './http/registry-route.ts';
import { issueToken } from './http/routes/token.ts';
import { sendError } from './http/send-error.ts';
import { v2Handler } from './http/v2-handler.ts';

export interface RegistryDeps {
  resources: Resources;
  redis: Redis;
  services: RegistryServices;
}

export function createRegistryApp({ resources, redis, services }: RegistryDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use(
    observeRequests({
      app: 'registry',
      logger: resources.logger,
      routeOf: (req) => registryRouteOf(req.path),
      metrics: registryRequestMetrics,
    }),
  );
  app.use(
    healthRouter({
      database: () => resources.db.ping(),
      redis: () => pingRedis(redis),
      storage: () => resources.storage.assertWritable(),
    }),
  );
  app.use(metricsRouter({ token: resources.config.metricsToken }));
  app.get('/token', (req, res) => issueToken(req, res, services));
  app.use(v2Handler(services));
  app.use(sendError(resources.logger));
  return app;
}
