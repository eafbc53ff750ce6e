import { randomBytes } from 'node:crypto';
import { readdir, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import { json, OCI_CONFIG, OCI_LAYER_GZIP, OCI_MANIFEST, startFaultProxy, waitFor, type FaultProxy } from '@cistern/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSyncFixture, type SyncFixture } from './processes.ts';

// A worker killed mid-download (SIGKILL: no shutdown, no cleanup) leaves its
// partial file in the store's tmp. The next worker to start on the same store
// removes it before it takes work, since its owner is dead; here with no
// protection time (ORPHAN_PROTECTION_MINUTES=0), as an operator emptying tmp would.
const REPO = 'team/big';
const LAYER_BYTES = 32 * 1024 * 1024;

let fixture: SyncFixture;
let proxy: FaultProxy;

beforeAll(async () => {
  fixture = await startSyncFixture({ ORPHAN_PROTECTION_MINUTES: '0', LOG_LEVEL: 'info' });
  proxy = await startFaultProxy(fixture.upstream.url);
});
afterAll(async () => {
  await proxy?.stop();
  await fixture?.stop();
});

/** The partial files in tmp with their size in bytes (the owners' heartbeats live in a directory of their own); a file renamed into place meanwhile is left out. */
async function partialFiles(tmp: string): Promise<Map<string, number>> {
  const entries = await readdir(tmp, { withFileTypes: true }).catch(() => []);
  const sizes = await Promise.all(
    entries.filter((e) => e.isFile()).map(async (e) => [e.name, (await stat(path.join(tmp, e.name)).catch(() => undefined))?.size] as const),
  );
  return new Map(sizes.filter((entry): entry is readonly [string, number] => entry[1] !== undefined));
}

describe('a worker killed mid-download', () => {
  it('leaves a partial file that the next worker removes at its start; the next sync completes', async () => {
    const { cistern, upstream, dataDir } = fixture;
    const tmp = path.join(dataDir, 'storage', 'tmp');
    const layer = randomBytes(LAYER_BYTES);
    const layerDigest = upstream.addBlob(REPO, layer);
    const config = json({ architecture: 'amd64', os: 'linux' });
    const manifest = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: upstream.addBlob(REPO, config), size: config.length },
      layers: [{ mediaType: OCI_LAYER_GZIP, digest: layerDigest, size: LAYER_BYTES }],
    };
    upstream.addManifest(REPO, json(manifest), OCI_MANIFEST, ['1.0']);
    // Half the layer, then nothing for longer than the test runs.
    proxy.inject({ method: 'GET', kind: 'blob', pathIncludes: layerDigest, fault: { type: 'stall', ms: 10 * 60_000 }, times: 1 });

    await cistern.sync({ url: proxy.url, upstreamName: REPO });
    const namePrefix = new RegExp(`^[0-9a-f]{12}\\.${layerDigest.slice(7, 23)}\\.`);
    const [name] = await waitFor('a quarter of the layer in a partial file', async () =>
      [...(await partialFiles(tmp))].find(([file, bytes]) => namePrefix.test(file) && bytes >= LAYER_BYTES / 4),
    );

    cistern.worker.child.kill('SIGKILL');
    await cistern.worker.exited;
    const left = await partialFiles(tmp);
    expect([...left.keys()]).toEqual([name]);
    const size = left.get(name) ?? 0;
    // Its heartbeat is as the kill left it; backdated past the 30 s after which an owner is dead,
    // rather than waiting those 30 s out.
    const heartbeat = path.join(tmp, 'owners', name.slice(0, 12));
    const killedLongAgo = new Date(Date.now() - 60_000);
    await utimes(heartbeat, killedLongAgo, killedLongAgo);

    const next = await cistern.restartWorker();

    // Ready means started: the sweep ran before the worker took any work.
    expect(await partialFiles(tmp)).toEqual(new Map());
    expect(next.output()).toMatch(new RegExp(`"files":1,"bytes":${size},.*swept partial files`));
    proxy.clearFaults();
    const id = await cistern.sync({ url: proxy.url, upstreamName: REPO });
    const task = await cistern.waitTask(id, (t) => ['completed', 'failed', 'canceled'].includes(t.state), 30_000, 100);
    expect(task.state, JSON.stringify(task.error)).toBe('completed');
    expect((await stat(path.join(dataDir, 'storage', 'blobs', 'sha256', layerDigest.slice(7, 9), layerDigest.slice(7)))).size).toBe(LAYER_BYTES);
  });
});
