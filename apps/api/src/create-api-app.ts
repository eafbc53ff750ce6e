import type { Resources } from '@cistern/runtime';
import { healthRouter } from '@cistern/runtime';
import express, { type Express } from 'express';
import type { Redis } from 'ioredis';
import { pinoHttp } from 'pino-http';

export interface ApiDeps {
  resources: Resources;
  redis: Redis;
}

export function createApiApp({ resources, redis }: ApiDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(
    healthRouter({
      database: () => resources.db.ping(),
      redis: async () => {
        await redis.ping();
      },
    }),
  );
  app.use(pinoHttp({ logger: resources.logger.child({ app: 'api' }) }));
  app.use((_req, res) => {
    res.status(404).json({ error: { code: 'NOT_FOUND', message: 'no such endpoint', details: [] } });
  });
  return app;
}
