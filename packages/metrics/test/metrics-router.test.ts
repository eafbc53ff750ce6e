import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricsRouter } from '../src/index.ts';

const TOKEN = 'metrics-token-0123456789';
let open: { url: string; close(): void };
let guarded: { url: string; close(): void };

async function serve(token?: string): Promise<{ url: string; close(): void }> {
  const app = express().use(metricsRouter({ token }));
  const server = await new Promise<ReturnType<typeof app.listen>>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`, close: () => server.close() };
}

beforeAll(async () => {
  open = await serve();
  guarded = await serve(TOKEN);
});
afterAll(() => {
  open.close();
  guarded.close();
});

describe('/metrics', () => {
  it('is open without a token and serves the process defaults in the text format', async () => {
    const res = await fetch(open.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toMatch(/^# TYPE process_cpu_user_seconds_total counter$/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
  });

  it('with a token, answers 401 without it or with another, and 200 with it', async () => {
    for (const authorization of [undefined, 'Bearer wrong', `Basic ${TOKEN}`, `Bearer ${TOKEN}x`, TOKEN]) {
      const res = await fetch(guarded.url, { headers: authorization ? { authorization } : {} });
      expect(res.status, String(authorization)).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
      expect(await res.json()).toEqual({ error: { code: 'UNAUTHORIZED', message: expect.any(String), details: [] } });
    }
    // The scheme is case-insensitive (RFC 9110 §11.1).
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
      expect((await fetch(guarded.url, { headers: { authorization: `${scheme} ${TOKEN}` } })).status, scheme).toBe(200);
    }
  });
});
