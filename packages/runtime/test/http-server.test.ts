import express from 'express';
import { describe, expect, it } from 'vitest';
import { healthRouter } from '../src/health.ts';
import { listen } from '../src/http-server.ts';

describe('graceful HTTP shutdown', () => {
  it('finishes the request in flight, then refuses new connections', async () => {
    const app = express();
    app.get('/slow', (_req, res) => void setTimeout(() => res.send('finished'), 500));
    const server = await listen(app, '127.0.0.1', 0);
    const inFlight = fetch(`${server.url}/slow`).then((r) => r.text());
    await new Promise((r) => setTimeout(r, 100));
    const closed = server.close(5000);
    expect(await inFlight).toBe('finished');
    await closed;
    await expect(fetch(`${server.url}/slow`)).rejects.toThrow();
  });

  it('cuts requests still running after the timeout', async () => {
    const app = express();
    app.get('/hang', () => undefined);
    const server = await listen(app, '127.0.0.1', 0);
    const hanging = fetch(`${server.url}/hang`).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    await server.close(300);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await hanging).toBeInstanceOf(Error);
  });
});

describe('health routes', () => {
  it('report liveness always and readiness per dependency', async () => {
    let redisUp = true;
    const app = express();
    app.use(
      healthRouter({
        database: async () => undefined,
        redis: async () => {
          if (!redisUp) throw new Error('connection refused');
        },
      }),
    );
    const server = await listen(app, '127.0.0.1', 0);
    try {
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
      redisUp = false;
      const res = await fetch(`${server.url}/readyz`);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ status: 'unavailable', checks: { database: 'ok', redis: 'connection refused' } });
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    } finally {
      await server.close(1000);
    }
  });
});
