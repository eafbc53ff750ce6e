import type { Socket } from 'node:net';
import { json, OCI_INDEX, OCI_MANIFEST, sha256, type SyntheticUpstream } from '@cistern/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleProcess, startSyncFixture, type SeparateCistern, type SyncFixture } from './processes.ts';

// An index of 20,000 entries whose children are all gone upstream once made
// the worker open 20,000+ connections at once (EMFILE, RSS 215 → 630 MB).
// Every fan-out goes through the remote's concurrency bound: the upstream
// sees at most `downloadConcurrency` requests at once and the worker's
// descriptors stay flat whatever the index size.
const ENTRIES = 20_000;
const CONCURRENCY = 10;
const REPO = 'team/wide';
/** Children answer after this long, so that requests overlap at the upstream if the client lets them. */
const ANSWER_DELAY_MS = 1;

let fixture: SyncFixture;
let cistern: SeparateCistern;
let upstream: SyntheticUpstream;

beforeAll(async () => {
  fixture = await startSyncFixture();
  ({ cistern, upstream } = fixture);
});
afterAll(async () => {
  await fixture?.stop();
});

describe('an index of 20,000 entries whose children are gone upstream', () => {
  it('syncs through the concurrency bound: few connections, flat descriptors, the index refused and said so', async () => {
    const children = Array.from({ length: ENTRIES }, (_, i) => {
      const bytes = json({ schemaVersion: 2, mediaType: OCI_MANIFEST, missing: i });
      return { mediaType: OCI_MANIFEST, digest: sha256(bytes), size: bytes.length };
    });
    const index = upstream.addManifest(REPO, json({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: children }), OCI_INDEX, ['wide']);

    // Child requests are answered 404 a moment later; in flight and open connections are counted here.
    let inFlight = 0;
    let peakInFlight = 0;
    const sockets = new Set<Socket>();
    let peakSockets = 0;
    let childRequests = 0;
    upstream.intercept((req, res) => {
      if (!sockets.has(req.socket)) {
        sockets.add(req.socket);
        req.socket.once('close', () => sockets.delete(req.socket));
        peakSockets = Math.max(peakSockets, sockets.size);
      }
      const url = req.url ?? '';
      if (!url.includes('/manifests/sha256:') || url.endsWith(index)) return false;
      childRequests += 1;
      inFlight += 1;
      peakInFlight = Math.max(peakInFlight, inFlight);
      setTimeout(() => {
        inFlight -= 1;
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}');
      }, ANSWER_DELAY_MS);
      return true;
    });

    const pid = cistern.worker.child.pid ?? 0;
    const readings = sampleProcess(pid, 25);
    const started = performance.now();
    const id = await cistern.sync({ url: upstream.url, upstreamName: REPO, downloadConcurrency: CONCURRENCY });
    const task = await cistern.waitTask(id, (t) => ['completed', 'failed', 'canceled'].includes(t.state), 60_000, 200);
    const seconds = (performance.now() - started) / 1000;
    await readings.stop();
    console.log(
      `index fan-out of ${ENTRIES}: ${seconds.toFixed(1)} s, worker peak fds ${readings.peakFds}, peak RSS ${readings.peakRssMiB.toFixed(0)} MiB, ` +
        `upstream peak in flight ${peakInFlight}, peak open connections ${peakSockets}, child requests ${childRequests}`,
    );

    expect(task.state, JSON.stringify(task.error)).toBe('completed');
    expect(childRequests).toBeGreaterThanOrEqual(ENTRIES);
    expect(peakInFlight).toBeLessThanOrEqual(CONCURRENCY);
    expect(peakSockets).toBeLessThanOrEqual(CONCURRENCY + 2);
    expect(readings.peakFds).toBeLessThan(100);
    // Nothing was mirrored, and the task says why: the one selected tag's index lists only manifests that are gone.
    expect(task.warnings?.map((w) => w.code)).toContain('NOTHING_MIRRORED');
    expect(task.createdResources).toEqual([]);
    const skips = task.progressReports.filter((r) => r.code === 'sync.manifests.refused' || r.code === 'sync.manifests.failed');
    expect(skips.reduce((n, r) => n + (r.done ?? 0), 0)).toBeGreaterThanOrEqual(ENTRIES);
  }, 90_000);
});
