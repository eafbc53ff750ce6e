import type { Resources } from '@cistern/runtime';
import { healthRouter } from '@cistern/runtime';
import express, { type Express } from 'express';
import type { Redis } from 'ioredis';
import { pinoHttp } from 'pino-http';

export interface RegistryDeps {
  resources: Resources;
  redis: Redis;
}

export function createRegistryApp({ resources, redis }: RegistryDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(
    healthRouter({
      database: () => resources.db.ping(),
      redis: async () => {
        await redis.ping();
      },
      storage: () => resources.storage.assertWritable(),
    }),
  );
  app.use(pinoHttp({ logger: resources.logger.child({ app: 'registry' }) }));
  app.use((_req, res) => {
    res.status(404).json({ errors: [{ code: 'NAME_UNKNOWN', message: 'repository name not known to registry' }] });
  });
  return app;
}
