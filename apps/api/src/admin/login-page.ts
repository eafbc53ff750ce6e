import type { AdminLogin } from '@cistern/auth';
import type { Response } from 'express';

/** The status and the message the login page answers a refused login with. */
export function describeRefusal(refusal: Extract<AdminLogin, { ok: false }>): { status: number; message: string } {
  switch (refusal.code) {
    case 'TOKEN_UNKNOWN':
      return { status: 401, message: 'That token is unknown, revoked or expired.' };
    case 'NOT_ADMIN':
      return { status: 403, message: `Token "${refusal.principal.name}" is a pull token: the queue dashboard needs an admin token.` };
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(message: string | undefined): string {
  const notice = message ? `<p class="error" role="alert">${escapeHtml(message)}</p>` : '';
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Cistern: log in</title>
  <style>
    body { font-family: system-ui, sans-serif; display: grid; place-items: center; min-height: 100vh; margin: 0; background: #f4f5f7; }
    form { background: #fff; padding: 2rem; border-radius: 8px; box-shadow: 0 1px 4px #0002; width: min(26rem, 90vw); }
    h1 { font-size: 1.25rem; margin-top: 0; }
    label { display: block; margin-bottom: .5rem; }
    input { width: 100%; box-sizing: border-box; padding: .5rem; font: inherit; }
    button { margin-top: 1rem; padding: .5rem 1.25rem; font: inherit; }
    .error { color: #b00020; }
  </style>
</head>
<body>
  <form method="post" action="/admin/login">
    <h1>Cistern queue dashboard</h1>
    ${notice}
    <label for="token">Admin API token</label>
    <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
    <button type="submit">Log in</button>
  </form>
</body>
</html>`;
}

/** Answers the login form, with `message` above it when a login was refused. */
export function sendLoginPage(res: Response, status: number, message?: string): void {
  res
    .status(status)
    .set({
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
      'cache-control': 'no-store',
    })
    .type('html')
    .send(page(message));
}
