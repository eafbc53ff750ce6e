import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { assertQueueReachable } from '@cistern/queue';
import type { Queue } from 'bullmq';
import { Router } from 'express';
import { ApiError } from '../errors/api-error.ts';

const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  // bull-board renders with inline styles.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * bull-board over Cistern's queues, read-only. Its retry, remove, clean and
 * pause actions would change jobs behind the backs of the task rows, which are
 * the source of truth (cancel or re-run a task through /api/v1 instead). Each
 * queue is in bull-board's read-only mode, which hides those buttons, and the
 * router refuses every method but GET and HEAD before bull-board sees the
 * request, so no action a bull-board version adds (or leaves unguarded) can
 * write either.
 */
export function queueDashboard(options: { queues: Queue[]; basePath: string; logoutPath: string }): Router {
  const serverAdapter = new ExpressAdapter().setBasePath(options.basePath);
  createBullBoard({
    queues: options.queues.map((queue) => new BullMQAdapter(queue, { readOnlyMode: true })),
    serverAdapter,
    options: {
      uiConfig: { boardTitle: 'Cistern', hideDocsLink: true, miscLinks: [{ text: 'Log out', url: options.logoutPath }] },
    },
  });
  const router = Router();
  router.use((req, res, next) => {
    // Everything from this server: bull-board's page links a Google Fonts stylesheet, which would
    // tell a third party each time an operator opens the dashboard (and fails on closed networks).
    res.set('content-security-policy', DASHBOARD_CSP);
    if (req.method === 'GET' || req.method === 'HEAD') return next();
    res.set('allow', 'GET, HEAD');
    throw new ApiError('METHOD_NOT_ALLOWED', 'the queue dashboard is read-only: change tasks through /api/v1, whose task rows are the source of truth');
  });
  // bull-board answers its own 500 with the raw Redis error when a read fails: while Redis is
  // unreachable its data calls answer Cistern's 503 REDIS_UNAVAILABLE instead.
  router.use('/api', async (_req, _res, next) => {
    await Promise.all(options.queues.map((queue) => assertQueueReachable(queue, 'read the queues')));
    next();
  });
  router.use(serverAdapter.getRouter() as Router);
  return router;
}
