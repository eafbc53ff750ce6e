import { createServer, type Server, type Socket } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { json, OCI_CONFIG, OCI_MANIFEST, type SyntheticUpstream } from '@cistern/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSyncFixture, type SeparateCistern, type SyncFixture } from './processes.ts';

// A cancel must take effect within 2 s whatever the upstream does: here it
// accepts connections and never answers, at each stage of a sync in turn. The
// API and the worker are separate processes: the cancel crosses Postgres.
const CANCEL_WITHIN_MS = 2000;
const REPO = 'team/app';

/** Where a sync is held; `closed` resolves when the held connection is closed (the request was aborted). */
interface Held {
  closed?: Promise<void>;
}

const closedOf = (socket: Socket): Promise<void> => new Promise<void>((resolve) => socket.once('close', () => resolve()));

/** Accepts connections, reads what is sent, never writes; `reached` resolves at the first bytes read. */
async function startSilentServer(): Promise<{ url: string; reached: Promise<Held>; stop(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let reach!: (held: Held) => void;
  const reached = new Promise<Held>((resolve) => (reach = resolve));
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    const closed = closedOf(socket);
    socket.on('data', () => reach({ closed }));
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    reached,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let fixture: SyncFixture;
let cistern: SeparateCistern;
let upstream: SyntheticUpstream;
const latencies: Record<string, number> = {};

beforeAll(async () => {
  fixture = await startSyncFixture();
  ({ cistern, upstream } = fixture);
  const config = json({ architecture: 'amd64', os: 'linux' });
  const configDigest = upstream.addBlob(REPO, config);
  upstream.addManifest(
    REPO,
    json({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: OCI_CONFIG, digest: configDigest, size: config.length }, layers: [] }),
    OCI_MANIFEST,
    ['1.0'],
  );
});
afterAll(async () => {
  console.log(`cancel latencies against a silent upstream (ms): ${JSON.stringify(latencies)}`);
  await fixture?.stop();
});

/**
 * Starts a sync of `url`, waits until the worker is held at the stage (`reached`),
 * cancels through the API, and expects `canceled` within 2 s and the held
 * connection closed by then too: a request left open would hold a socket
 * (and a concurrency slot's worth of upstream work) until its read timeout.
 */
async function cancelWhileHeld(stage: string, url: string, reached: Promise<Held>): Promise<void> {
  const id = await cistern.sync({ url, upstreamName: REPO });
  const held = await Promise.race([reached, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`the sync never reached ${stage}`)), 20_000))]);
  let closedAt: number | undefined;
  void held.closed?.then(() => (closedAt = performance.now()));
  const running = await cistern.waitTask(id, (t) => t.state === 'running', 5000);
  expect(running.state).toBe('running');
  const t0 = performance.now();
  const cancel = await cistern.call('POST', `/tasks/${id}/cancel`);
  expect(cancel.status).toBe(200);
  const after = await cistern.waitTask(id, (t) => t.state === 'canceled', CANCEL_WITHIN_MS + 3000, 20);
  const ms = Math.round(performance.now() - t0);
  latencies[stage] = ms;
  expect(after.state).toBe('canceled');
  expect(ms).toBeLessThan(CANCEL_WITHIN_MS);
  if (held.closed) {
    await Promise.race([held.closed, new Promise((r) => setTimeout(r, Math.max(0, t0 + CANCEL_WITHIN_MS - performance.now())))]);
    expect(closedAt, `the held ${stage} connection is closed by the cancel`).toBeDefined();
  }
}

/** The stalled exchanges: the intercept holds matching requests unanswered and reports the first. */
function hold(match: (req: IncomingMessage) => boolean): Promise<Held> {
  return new Promise<Held>((resolve) => {
    upstream.intercept((req: IncomingMessage, _res: ServerResponse) => {
      if (!match(req)) return false;
      resolve({ closed: closedOf(req.socket) });
      return true;
    });
  });
}

describe('cancel stops a sync held by an upstream that never answers', () => {
  it('while the tag list is being asked for', async () => {
    const silent = await startSilentServer();
    try {
      await cancelWhileHeld('tag list', silent.url, silent.reached);
    } finally {
      await silent.stop();
    }
  });

  it('during a manifest HEAD', async () => {
    const reached = hold((req) => req.method === 'HEAD' && (req.url ?? '').includes('/manifests/'));
    await cancelWhileHeld('manifest HEAD', upstream.url, reached);
  });

  it('during a manifest GET', async () => {
    const reached = hold((req) => req.method === 'GET' && (req.url ?? '').includes('/manifests/'));
    await cancelWhileHeld('manifest GET', upstream.url, reached);
  });

  it('while fetching a token from a realm that never answers', async () => {
    const realm = await startSilentServer();
    try {
      upstream.intercept((req, res) => {
        if (req.headers.authorization !== undefined) return false;
        res.writeHead(401, { 'www-authenticate': `Bearer realm="${realm.url}/token",service="synthetic"`, 'content-type': 'application/json' });
        res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
        return true;
      });
      await cancelWhileHeld('token realm', upstream.url, realm.reached);
    } finally {
      await realm.stop();
    }
  });

  it('while waiting out a 429 Retry-After of 30 s', async () => {
    let answered!: (held: Held) => void;
    const reached = new Promise<Held>((resolve) => (answered = resolve));
    upstream.intercept((req, res) => {
      if (!(req.url ?? '').includes('/tags/list')) return false;
      res.writeHead(429, { 'retry-after': '30', 'content-type': 'application/json' });
      res.end('{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}');
      answered({});
      return true;
    });
    await cancelWhileHeld('rate-limit wait', upstream.url, reached);
  });
});
