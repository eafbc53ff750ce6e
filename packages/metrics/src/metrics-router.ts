import { authorizationCredentials, secretsEqual } from '@cistern/config';
import { Router } from 'express';
import { metricsRegistry } from './metrics-registry.ts';

/**
 * `GET /metrics` in the Prometheus text exposition format (0.0.4). Open
 * without `token`, as Prometheus expects; with it, the request must carry
 * `Authorization: Bearer <token>` (401 otherwise).
 */
export function metricsRouter(options: { token?: string }): Router {
  const router = Router();
  router.get('/metrics', async (req, res) => {
    if (options.token !== undefined) {
      const given = authorizationCredentials(req.headers.authorization, 'bearer') ?? '';
      if (!secretsEqual(given, options.token)) {
        // The management API's error shape, whichever app's port answers.
        const error = { code: 'UNAUTHORIZED', message: 'metrics need Authorization: Bearer <METRICS_TOKEN>', details: [] };
        res.status(401).set('www-authenticate', 'Bearer realm="metrics"').json({ error });
        return;
      }
    }
    res.set('content-type', metricsRegistry.contentType).send(await metricsRegistry.metrics());
  });
  return router;
}
