import type { AdminSessions, TokenService } from '@cistern/auth';
import type { Logger } from '@cistern/config';
import type { Queue } from 'bullmq';
import { Router } from 'express';
import { formBody } from '../http/request-input.ts';
import { describeRefusal, sendLoginPage } from './login-page.ts';
import { queueDashboard } from './queue-dashboard.ts';
import { LOGIN_PATH, requireAdmin } from './require-admin.ts';
import { clearSessionCookie, setSessionCookie } from './session-cookie.ts';

const DASHBOARD_PATH = '/admin/queues';
const LOGOUT_PATH = '/admin/logout';

/** What the admin pages need, built once by startApi. */
export interface AdminDeps {
  sessions: Pick<AdminSessions, 'open' | 'check'>;
  tokens: Pick<TokenService, 'verify'>;
  /** The queues the dashboard lists (the task queue and the schedule queue, under REDIS_PREFIX). */
  queues: Queue[];
  /** Logins and refusals are logged by the token's name, never the token. */
  logger: Logger;
}

/**
 * The admin pages: `/admin/login` (a form that takes an admin token and sets
 * the session cookie), `/admin/logout`, and the read-only queue dashboard at
 * `/admin/queues`, for admins only.
 */
export function adminRouter({ sessions, tokens, queues, logger }: AdminDeps): Router {
  const router = Router();
  router.use('/admin', (_req, res, next) => {
    res.set('x-frame-options', 'DENY');
    next();
  });
  router.get(LOGIN_PATH, (_req, res) => {
    sendLoginPage(res, 200);
  });
  router.post(LOGIN_PATH, formBody(8 * 1024), async (req, res) => {
    const body = req.body as { token?: unknown } | undefined;
    const token = typeof body?.token === 'string' ? body.token.trim() : '';
    if (token === '') return sendLoginPage(res, 400, 'Enter an admin API token.');
    const login = await sessions.open(token);
    if (!login.ok) {
      const { status, message } = describeRefusal(login);
      logger.info({ refused: login.code, ...(login.code === 'NOT_ADMIN' ? { tokenName: login.principal.name } : {}) }, 'admin login refused');
      return sendLoginPage(res, status, message);
    }
    setSessionCookie(req, res, login.value, login.expiresAt);
    // Not `token`: the logger redacts that field, and the line is there to say who.
    logger.info({ tokenName: login.principal.name }, 'admin login');
    res.redirect(303, DASHBOARD_PATH);
  });
  router.get(LOGOUT_PATH, (req, res) => {
    clearSessionCookie(req, res);
    res.redirect(303, LOGIN_PATH);
  });
  router.use(
    DASHBOARD_PATH,
    requireAdmin({ sessions, tokens, apiPath: '/api/' }),
    queueDashboard({ queues, basePath: DASHBOARD_PATH, logoutPath: LOGOUT_PATH }),
  );
  return router;
}
