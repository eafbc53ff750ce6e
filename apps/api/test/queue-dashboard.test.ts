import { launchChromium, type HeadlessChromium, type Page, type Request } from '@cistern/testkit/chromium';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, ApiHarness } from './harness.ts';

// The queue dashboard as an operator meets it: a real API (PostgreSQL, Redis under a prefix
// of its own) with a task waiting in the queue, and headless Chromium in front of it.

const h = new ApiHarness();
let browser: HeadlessChromium;
let page: Page;
let taskId: string;
let pullToken: string;
/** Every request the page made. */
const requested: Request[] = [];

beforeAll(async () => {
  [, browser] = await Promise.all([h.start(), launchChromium()]);
  page = await browser.context.newPage();
  page.on('request', (request) => requested.push(request));
  taskId = (await h.post('/api/v1/orphans/cleanup', { dryRun: true })).body.task.id;
  pullToken = (await h.post('/api/v1/tokens', { name: 'puller', scope: 'pull', allDistributions: true })).body.secret;
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await h.stop();
});

const url = (path: string) => `${h.api.url}${path}`;

async function logIn(token: string) {
  await page.goto(url('/admin/login'));
  await page.fill('input[name="token"]', token);
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url() === url('/admin/login') && r.request().method() === 'POST'),
    page.click('button[type="submit"]'),
  ]);
  await page.waitForLoadState();
  return response;
}

/** What the dashboard's JSON API answers the page's own fetch (same origin, with its cookie). */
function fetchInPage(method: string, path: string) {
  return page.evaluate(
    async ([m, p]) => {
      const res = await fetch(p as string, { method: m as string, headers: { 'content-type': 'application/json' }, body: m === 'GET' ? undefined : '{}' });
      return { status: res.status, body: await res.text() };
    },
    [method, path],
  );
}

describe('queue dashboard', () => {
  it('sends a browser without a session to the login page, and refuses unknown and pull tokens there', async () => {
    await page.goto(url('/admin/queues'));
    expect(new URL(page.url()).pathname).toBe('/admin/login');
    await expect(page.locator('input[name="token"][type="password"]').count()).resolves.toBe(1);

    const wrong = await logIn('cst_this-token-was-never-issued');
    expect(wrong.status()).toBe(401);
    expect(new URL(page.url()).pathname).toBe('/admin/login');
    expect(await page.locator('[role="alert"]').textContent()).toBe('That token is unknown, revoked or expired.');

    const pull = await logIn(pullToken);
    expect(pull.status()).toBe(403);
    expect(await page.locator('[role="alert"]').textContent()).toBe('Token "puller" is a pull token: the queue dashboard needs an admin token.');
    expect(await browser.context.cookies()).toEqual([]);

    await page.goto(url('/admin/queues/queue/tasks'));
    expect(new URL(page.url()).pathname).toBe('/admin/login');
  });

  it('answers API calls without a session 401, and pull tokens 403', async () => {
    const api = await fetch(url('/admin/queues/api/queues'));
    expect(api.status).toBe(401);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
    const html = await fetch(url('/admin/queues'), { redirect: 'manual' });
    expect([html.status, html.headers.get('location')]).toEqual([303, '/admin/login']);
    const pull = await fetch(url('/admin/queues/api/queues'), { headers: { authorization: `Bearer ${pullToken}` } });
    expect(pull.status).toBe(403);
    const forged = await fetch(url('/admin/queues/api/queues'), { headers: { cookie: 'cistern_admin_session=eyJoIjoiYSJ9.AAAA' } });
    expect(forged.status).toBe(401);
    expect(forged.headers.get('set-cookie')).toMatch(/^cistern_admin_session=;/);
    // Behind a TLS proxy (X-Forwarded-Proto: https) the cookie is Secure.
    const form = { method: 'POST', body: new URLSearchParams({ token: ADMIN_TOKEN }), redirect: 'manual' } as const;
    const proxied = await fetch(url('/admin/login'), { ...form, headers: { 'x-forwarded-proto': 'https' } });
    expect([proxied.status, proxied.headers.get('set-cookie')]).toEqual([303, expect.stringMatching(/; Secure; SameSite=Strict$/)]);
    const plain = await fetch(url('/admin/login'), form);
    expect(plain.headers.get('set-cookie')).not.toMatch(/Secure/);

    // A script may use its admin token instead of a session.
    const bearer = await fetch(url('/admin/queues/api/queues'), { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(bearer.status).toBe(200);
  });

  it('logs an admin in with an HttpOnly, SameSite=Strict cookie and lists both queues and the waiting job, with no action buttons', async () => {
    const login = await logIn(ADMIN_TOKEN);
    expect(login.status()).toBe(303);
    expect(new URL(page.url()).pathname).toBe('/admin/queues');
    const [cookie, ...others] = await browser.context.cookies();
    expect(others).toEqual([]);
    // Plain http here: a Secure cookie would never come back, and the login would loop.
    expect(cookie).toMatchObject({ name: 'cistern_admin_session', path: '/admin', httpOnly: true, sameSite: 'Strict', secure: false });
    expect(cookie?.value).not.toContain(ADMIN_TOKEN);
    expect(await page.evaluate('document.cookie')).toBe('');

    await expect.poll(() => page.locator('body').innerText(), { timeout: 15_000 }).toContain('schedules');
    expect(await page.locator('body').innerText()).toContain('tasks');

    await page.goto(url('/admin/queues/queue/tasks?status=waiting'));
    await expect.poll(() => page.locator('body').innerText(), { timeout: 15_000 }).toContain(taskId);
    expect(await page.locator('body').innerText()).toContain('orphan-cleanup');
    // Without readOnlyMode, bull-board shows a waiting job's duplicate, edit and remove buttons
    // (these icons) and a menu of queue actions (pause, clean, empty) beside the queue's name.
    const icons = await page.locator('button svg.lucide').evaluateAll((svgs) => svgs.map((svg) => [...svg.classList].find((c) => c !== 'lucide')));
    expect(icons).toContain('lucide-copy');
    expect(icons.filter((icon) => ['lucide-files', 'lucide-pencil', 'lucide-trash2', 'lucide-rotate-ccw', 'lucide-redo'].includes(icon ?? ''))).toEqual([]);
    const buttonTexts = await page.locator('button').allInnerTexts();
    expect(buttonTexts.filter((b) => /retry|remove|clean|promote|pause|empty|obliterate|add job|delete|duplicate/i.test(b))).toEqual([]);
    // One menu is left: the account menu, which holds only "Log out".
    await expect(page.locator('button[aria-haspopup="menu"]').count()).resolves.toBe(1);
    // Nothing left for another origin: bull-board's page links Google Fonts, and the CSP stops the browser before it asks.
    const foreign = requested.filter((r) => !r.url().startsWith('data:') && new URL(r.url()).origin !== new URL(h.api.url).origin);
    expect(foreign.map((r) => [r.url(), r.failure()?.errorText])).toEqual(foreign.map((r) => [r.url(), 'csp']));
  });

  it('refuses every write of the dashboard API and changes nothing', async () => {
    const before = await h.taskQueue.getJobCounts();
    const writes: [string, string][] = [
      ['PUT', `/admin/queues/api/queues/tasks/${taskId}/clean`],
      ['PUT', `/admin/queues/api/queues/tasks/${taskId}/retry`],
      ['PUT', `/admin/queues/api/queues/tasks/${taskId}/promote`],
      ['PATCH', `/admin/queues/api/queues/tasks/${taskId}/update-data`],
      ['PUT', '/admin/queues/api/queues/tasks/clean/waiting'],
      ['PUT', '/admin/queues/api/queues/tasks/retry/failed'],
      ['PUT', '/admin/queues/api/queues/tasks/empty'],
      ['PUT', '/admin/queues/api/queues/tasks/pause'],
      ['PUT', '/admin/queues/api/queues/pause'],
      ['PUT', '/admin/queues/api/queues/tasks/obliterate'],
      ['POST', '/admin/queues/api/queues/tasks/add'],
      ['DELETE', `/admin/queues/api/queues/tasks/${taskId}`],
    ];
    for (const [method, path] of writes) {
      const reply = await fetchInPage(method, path);
      expect([method, path, reply.status]).toEqual([method, path, 405]);
      expect(JSON.parse(reply.body).error.code).toBe('METHOD_NOT_ALLOWED');
    }
    expect(await h.taskQueue.getJobCounts()).toEqual(before);
    expect(await (await h.taskQueue.getJob(taskId))?.getState()).toBe('waiting');
    expect(await h.taskQueue.isPaused()).toBe(false);
    expect(await h.scheduleQueue.isPaused()).toBe(false);
    // The page's own reads still work with the session cookie.
    expect((await fetchInPage('GET', '/admin/queues/api/queues')).status).toBe(200);
  });

  it('logs out from the account menu, and a session ends when its token is revoked', async () => {
    await page.goto(url('/admin/queues'));
    await page.click('button[aria-haspopup="menu"]');
    await expect(page.getByRole('menuitem').allInnerTexts()).resolves.toEqual(['Log out']);
    await page.getByRole('menuitem', { name: 'Log out' }).click();
    await page.waitForURL(url('/admin/login'));
    expect(await browser.context.cookies()).toEqual([]);

    const created = (await h.post('/api/v1/tokens', { name: 'ops', scope: 'admin' })).body;
    expect((await logIn(created.secret)).status()).toBe(303);
    expect(new URL(page.url()).pathname).toBe('/admin/queues');
    await h.post(`/api/v1/tokens/${created.id}/revoke`);
    await page.goto(url('/admin/queues'));
    expect(new URL(page.url()).pathname).toBe('/admin/login');

    // Nothing of the tokens or the session reached the log.
    const log = h.logLines.join('');
    for (const secret of [ADMIN_TOKEN, created.secret, pullToken, 'cistern_admin_session=']) expect(log).not.toContain(secret);
    expect(log).toContain('"msg":"admin login"');
  });
});
